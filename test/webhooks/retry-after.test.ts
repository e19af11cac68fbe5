import { describe, expect, it } from 'vitest';
import { parseHttpDate } from '../../src/webhooks/retry-after.js';

const NOW = Date.parse('2026-12-06T23:00:00Z');
const read = (text: string) => {
  const at = parseHttpDate(text, NOW);
  return at === null ? null : new Date(at).toISOString();
};

describe('an HTTP-date in the forms RFC 9110 §5.6.7 has a recipient accept', () => {
  it.each([
    ['Sun, 06 Dec 2026 22:59:42 GMT', '2026-12-06T22:59:42.000Z'],
    ['Sunday, 06-Dec-26 22:59:42 GMT', '2026-12-06T22:59:42.000Z'],
    ['Sun Dec  6 22:59:42 2026', '2026-12-06T22:59:42.000Z'],
    ['Sun Dec 06 22:59:42 2026', '2026-12-06T22:59:42.000Z'],
    // The leap second the grammar allows: the moment after 23:59:59.
    ['Wed, 31 Dec 2025 23:59:60 GMT', '2026-01-01T00:00:00.000Z'],
  ])('reads %j as %s', (text, expected) => {
    expect(read(text)).toBe(expected);
  });

  it('reads a two-digit year as the latest past one when its moment is more than 50 years ahead, judged by the moment, not the year (review of the day)', () => {
    // 2076-12-07 is a day past 50 years from 2026-12-06 23:00: 1976. 2076-12-04 is not: it stays.
    expect(read('Tuesday, 07-Dec-76 08:00:00 GMT')).toBe('1976-12-07T08:00:00.000Z');
    expect(read('Friday, 04-Dec-76 08:00:00 GMT')).toBe('2076-12-04T08:00:00.000Z');
    expect(read('Saturday, 01-Jan-00 00:00:00 GMT')).toBe('2000-01-01T00:00:00.000Z');
  });

  it.each([
    'Tue, 31 Feb 2026 08:49:37 GMT',
    'Thu, 31 Dec 2026 24:00:00 GMT',
    'Wed, 31 Dec 2025 23:58:60 GMT',
    'Sun, 06 Dec 2026 22:59:42 UTC',
    'Sun, 06-Dec-26 22:59:42 GMT',
    'Sun, 06 Dec 0099 22:59:42 GMT',
    'Test 1',
  ])('refuses %j', (text) => {
    expect(read(text)).toBeNull();
  });
});
