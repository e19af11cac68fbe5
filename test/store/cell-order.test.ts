import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { byCellKey, type CellState } from '../../src/store/cell-states.js';
import { toProgramParts, type ProgramPartsRow } from '../../src/store/read-model.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A program's or consortium's statement reads its cells unordered, beside its parts row
 * (src/store/read-model.ts), and the service puts them in key order (byCellKey), as `collate "C"`
 * on program, milestone and consortium would. Ids where that order differs from a language's: hyphens,
 * which a language's collation skips, digits, and one id the prefix of another.
 */
const t = useTestApp();

/** In that order. */
const KEYS: readonly (readonly [string, string, string])[] = [
  ['p-a', 'm-1', ''],
  ['p-a', 'm-1', 'c-x'],
  ['p-a', 'm-1', 'c-x-b'],
  ['p-a', 'm-1', 'c-x0'],
  ['p-a', 'm-1', 'c-xa'],
  ['p-a', 'm-10', 'c-x'],
  ['p-a', 'm1', ''],
  ['p-a-b', 'm-1', ''],
  ['p-ab', 'm-1', ''],
  ['p0', 'm-1', 'c9'],
];

const cellOf = ([programId, milestone, consortium]: readonly [string, string, string]): CellState => ({
  programId,
  milestone,
  consortiumId: consortium === '' ? undefined : consortium,
  status: 'planned',
  since: { value: '2026', precision: 'year', start: new Date('2026-01-01T00:00:00Z'), end: new Date('2027-01-01T00:00:00Z') },
  evidenceCount: 0,
  evidence: [],
});

const keyOf = (c: CellState) => `${c.programId}/${c.milestone}/${c.consortiumId ?? ''}`;

const rowOf = ([programId, milestone, consortium]: readonly [string, string, string]): ProgramPartsRow => ({
  part: 1,
  programs: null,
  milestones: null,
  program_id: programId,
  milestone,
  consortium_id: consortium,
  status: 'planned',
  since_value: '2026',
  since_precision: 'year',
  since_start: '2026-01-01T00:00:00+00:00',
  since_end: '2027-01-01T00:00:00+00:00',
  evidence_count: 0,
  evidence: '',
});

describe("the order of a view's cells", () => {
  it('is the order PostgreSQL gives them with collate "C"', async () => {
    const values = sql.join(KEYS.map(([p, m, c]) => sql`(${p}::text, ${m}::text, ${c}::text)`));
    const { rows } = await sql<{ p: string; m: string; c: string }>`
      select p, m, c from (values ${values}) v(p, m, c) order by p collate "C", m collate "C", c collate "C"`.execute(t.database.db);

    const sorted = [...KEYS].reverse().map(cellOf).sort(byCellKey);

    expect(sorted.map(keyOf)).toEqual(rows.map((r) => `${r.p}/${r.m}/${r.c}`));
    expect(sorted.map(keyOf)).toEqual(KEYS.map(cellOf).map(keyOf));
  });

  it('is restored from a statement whose rows come in any order, the parts row among them', () => {
    const shuffled = [KEYS[4], KEYS[0], KEYS[9], KEYS[2], KEYS[7], KEYS[1], KEYS[8], KEYS[3], KEYS[6], KEYS[5]].flatMap((k) => (k === undefined ? [] : [rowOf(k)]));
    const parts: ProgramPartsRow = {
      part: 0,
      programs: [],
      milestones: [],
      ...{ program_id: null, milestone: null, consortium_id: null, status: null, since_value: null, since_precision: null },
      ...{ since_start: null, since_end: null, evidence_count: null, evidence: null },
    };

    const { cells } = toProgramParts([...shuffled.slice(0, 5), parts, ...shuffled.slice(5)]);

    // KEYS are listed in that order (the test above holds it against PostgreSQL).
    expect(cells.map(keyOf)).toEqual(KEYS.map(cellOf).map(keyOf));
  });

  it('fails on a cell row with a null column rather than leave the cell out', () => {
    const [first] = KEYS;
    if (first === undefined) throw new Error('no keys');
    const broken: ProgramPartsRow = { ...rowOf(first), since_start: null };

    expect(() => toProgramParts([rowOf(first), broken])).toThrow(/null column/);
  });
});
