import { describe, expect, it } from 'vitest';
import { shortTitle } from '../../src/domain/evidence.js';
import { parseFuzzyDate } from '../../src/domain/fuzzy-date.js';
import type { RecordedEvent } from '../../src/domain/recorded-event.js';

const occurredAt = parseFuzzyDate('2026-05');
if (occurredAt === undefined) throw new Error('2026-05 did not parse');
const mou = (title: string): RecordedEvent => ({
  id: '01900000-0000-7000-8000-000000000000',
  type: 'mou.signed',
  schemaVersion: 1,
  stream: 'program:p',
  streamVersion: 2,
  position: 2,
  occurredAt,
  recordedAt: new Date('2026-05-02T00:00:00Z'),
  data: { parties: ['A', 'B'], title, programId: 'p' },
  sources: [],
  metadata: { actor: 'test', requestId: 'r' },
});

describe('shortTitle', () => {
  it('cuts a long title at 160 UTF-16 units, short of a character that would be split in two', () => {
    const title = shortTitle(mou(`${'a'.repeat(159)}😀 and more`));

    // The emoji is two units, the 160th and 161st: cut in two, JSON would carry a lone surrogate, which strict decoders refuse.
    expect(title).toBe('a'.repeat(159));
    expect(title).not.toMatch(/[\ud800-\udbff]$/);
    expect(shortTitle(mou(`${'a'.repeat(158)}😀 and more`))).toBe(`${'a'.repeat(158)}😀`);
  });
});
