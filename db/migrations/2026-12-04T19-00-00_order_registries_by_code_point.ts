import { sql, type Kysely } from 'kysely';

/*
 * The program and consortium lists are pages in code-point order (`collate "C"`, src/store/read-model.ts:
 * the order a cursor of ids compares in, whatever the database's collation). Their primary keys
 * are in the database's default collation, which no `collate "C"` order or comparison can use:
 * every page read the whole registry and sorted it. On a 1M history (2,000 consortiums), the
 * first page of 100 took 1.4 ms of the server's time, a sequential scan of 2,000 rows and a sort,
 * where these indexes read its 100 rows (0.05 ms); at 32 clients the consortium list went from
 * 451 to 705 requests/s. The rebuild's tables copy them (LIKE … INCLUDING ALL).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index program_entry_code_point on program_entry (program_id collate "C")`.execute(db);
  await sql`create index consortium_entry_code_point on consortium_entry (consortium_id collate "C")`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index program_entry_code_point`.execute(db);
  await sql`drop index consortium_entry_code_point`.execute(db);
}
