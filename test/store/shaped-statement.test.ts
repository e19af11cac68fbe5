import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shapedStatement } from '../../src/store/shaped-statement.js';
import { statementRecorder } from '../support/statement-cost.js';
import { openTestDatabase, type TestDatabase } from '../support/test-database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => database.close());

interface Input {
  readonly ids: readonly string[];
  readonly after: string | undefined;
  readonly from: Date | undefined;
  readonly before: Date | undefined;
  readonly descending: boolean;
}

const ROWS = sql`(values ('a', '2026-01-01'::timestamptz), ('b', '2026-02-01'), ('c', '2026-03-01'), ('d', '2026-04-01')) as r (id, at)`;

/** The ids among `ids`, after `after`, at or after `from` and before `before` where given, in the order asked for. */
const idsStatement = shapedStatement<Input, { id: string }>(
  (input, s) => ({
    ids: s.texts(input.ids),
    after: s.optionalText(input.after),
    from: s.optionalInstant(input.from),
    before: s.optionalInstant(input.before),
    descending: s.choice(input.descending),
  }),
  ({ ids, after, from, before, descending }) => sql<{ id: string }>`
    select r.id from ${ROWS}
    where r.id = any (${ids}::text[])
      ${after === undefined ? sql`` : sql`and r.id > ${after}`}
      ${from === undefined ? sql`` : sql`and r.at >= ${from}::timestamptz`}
      ${before === undefined ? sql`` : sql`and r.at < ${before}::timestamptz`}
    order by r.id ${descending ? sql`desc` : sql`asc`}`,
);

const ids = async (input: Input) => (await idsStatement(database.db, input)).rows.map((r) => r.id);

describe('a statement compiled once a shape (src/store/shaped-statement.ts)', () => {
  it('answers each request with its own values, whichever request of its shape came first, and tells apart shapes that leave out different values', async () => {
    const all = ['a', 'b', 'c', 'd'];
    const none = { after: undefined, from: undefined, before: undefined, descending: false };
    expect(await ids({ ...none, ids: all, after: 'a' })).toEqual(['b', 'c', 'd']);
    expect(await ids({ ...none, ids: ['a', 'c', 'd'], after: 'c' })).toEqual(['d']);
    // One instant given and the other left out, then the other way round: two shapes, not one.
    expect(await ids({ ...none, ids: all, from: new Date('2026-03-01') })).toEqual(['c', 'd']);
    expect(await ids({ ...none, ids: all, before: new Date('2026-03-01') })).toEqual(['a', 'b']);
    expect(await ids({ ...none, ids: all, after: 'b', descending: true })).toEqual(['d', 'c']);
    expect(await ids({ ...none, ids: ['a', 'b', 'c'], after: 'a', from: new Date('2026-01-15'), before: new Date('2026-04-01') })).toEqual(['b', 'c']);
    expect(await ids({ ...none, ids: all, from: new Date('2026-02-01'), before: new Date('2026-03-01') })).toEqual(['b']);
  });

  it('refuses a statement whose text holds one of its values, and sends nothing', async () => {
    const inline = shapedStatement<{ readonly id: string }, { id: string }>(
      (input, s) => ({ id: s.text(input.id) }),
      ({ id }) => sql<{ id: string }>`select r.id from ${ROWS} where r.id = ${sql.lit(id)}`,
    );
    const recorder = statementRecorder();

    await expect(inline(recorder.wrap(database.db), { id: 'a' })).rejects.toThrow(/text that depends on its values/);
    expect(recorder.take()).toEqual([]);
  });

  it('refuses a statement that chooses between its values, which stand-ins rising in one build and falling in the other tell', async () => {
    const lower = shapedStatement<{ readonly from: Date; readonly to: Date }, { id: string }>(
      (input, s) => ({ from: s.instant(input.from), to: s.instant(input.to) }),
      ({ from, to }) => sql<{ id: string }>`select r.id from ${ROWS} where r.at < ${from < to ? from : to}::timestamptz`,
    );

    await expect(lower(database.db, { from: new Date('2026-01-15'), to: new Date('2026-03-15') })).rejects.toThrow(/a choice between values/);
  });

  it('refuses a statement that sends a copy of a value where the value was named', async () => {
    const copied = shapedStatement<{ readonly ids: readonly string[] }, { id: string }>(
      (input, s) => ({ ids: s.texts(input.ids) }),
      ({ ids }) => sql<{ id: string }>`select r.id from ${ROWS} where r.id = any (${[...ids]}::text[])`,
    );

    await expect(copied(database.db, { ids: ['a'] })).rejects.toThrow(/parameter \$1 in both builds/);
  });
});
