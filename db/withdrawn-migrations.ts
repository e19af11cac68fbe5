import { sql, type Kysely } from 'kysely';

/**
 * Migrations that were on main for a while and then taken out of the code, with what undoes what
 * each left. A database that applied one is not from a newer release: the start undoes it and
 * forgets its row in Kysely's table, whose migrator would otherwise stop at the row ("corrupted
 * migrations"), and the release-order check would take it for a newer release's.
 */
type Undo = <DB>(db: Kysely<DB>) => Promise<void>;

const WITHDRAWN: Readonly<Record<string, Undo>> = {
  // Extended statistics on a cell's key (15d5e8c withdrew them: a view's plan turned worse with them).
  // By table, not by name: a rebuild by a release that had them copied them under names of its own
  // (LIKE … INCLUDING ALL, in its schema). No release since makes extended statistics on these
  // tables; one an operator made there goes too (only on a database that still holds this row).
  '2026-12-03T08-00-00_estimate_cells_as_wholes': async (db) => {
    const { rows } = await sql<{ schema: string; name: string }>`
      select n.nspname as schema, s.stxname as name
      from pg_statistic_ext s join pg_namespace n on n.oid = s.stxnamespace
      where s.stxrelid in (to_regclass('cell_step'), to_regclass('cell_evidence'))`.execute(db);
    for (const { schema, name } of rows) await sql`drop statistics if exists ${sql.id(schema, name)}`.execute(db);
  },
  // Dropped the index event_type in the migrations' transaction; retired-indexes.ts drops it now.
  '2026-12-04T21-30-00_drop_the_type_index_the_feed_replaced': async () => {},
};

export const isWithdrawnMigration = (name: string): boolean => Object.hasOwn(WITHDRAWN, name);

/**
 * Undoes each withdrawn migration the database holds and deletes its row, on the caller's
 * connection (the migrations' own, under the projection lock), in a transaction of its own that
 * commits before Kysely's migrator reads the table; and returns their names. A start stopped between
 * the two leaves the rows forgotten and the migrations pending, which the next start applies.
 */
export async function forgetWithdrawnMigrations<DB>(db: Kysely<DB>): Promise<readonly string[]> {
  const { rows: present } = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(db);
  if (present[0]?.present !== true) return [];
  const names = Object.keys(WITHDRAWN);
  const { rows } = await sql<{ name: string }>`select name from kysely_migration where name = any(${names}) order by name`.execute(db);
  if (rows.length === 0) return [];
  await db.transaction().execute(async (tx) => {
    for (const { name } of rows) {
      await WITHDRAWN[name]?.(tx);
      await sql`delete from kysely_migration where name = ${name}`.execute(tx);
    }
  });
  return rows.map(({ name }) => name);
}
