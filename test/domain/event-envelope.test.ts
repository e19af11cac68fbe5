import { describe, expect, it } from 'vitest';
import { toFuzzyDateOutput } from '../../src/domain/event-envelope.js';
import { parseFuzzyDate } from '../../src/domain/fuzzy-date.js';

describe('toFuzzyDateOutput', () => {
  it('writes a date with its own precision and instants, even after another date with the same text was written', () => {
    const quarter = parseFuzzyDate('2026-Q2');
    if (quarter === undefined) throw new Error('2026-Q2 did not parse');
    const other = { value: '2026-Q2', precision: 'month' as const, start: new Date('2030-01-01T00:00:00Z'), end: new Date('2030-02-01T00:00:00Z') };

    const first = toFuzzyDateOutput(quarter);
    const second = toFuzzyDateOutput(other);
    const again = toFuzzyDateOutput(quarter);

    expect(first).toEqual({ value: '2026-Q2', precision: 'quarter', start: '2026-04-01T00:00:00.000Z', end: '2026-07-01T00:00:00.000Z' });
    expect(second).toEqual({ value: '2026-Q2', precision: 'month', start: '2030-01-01T00:00:00.000Z', end: '2030-02-01T00:00:00.000Z' });
    expect(again).toEqual(first);
    // Shared between answers, so nobody may change it.
    expect(Object.isFrozen(again)).toBe(true);
  });
});
