import { sql, type Kysely } from 'kysely';

/*
 * The index by type and position (event_type) has served nothing since the feed filtered by type
 * walks event_type_feed (2026-12-04T19-30-00), and every append still wrote an entry to it. Dropped
 * in a migration of its own, the last of its release: DROP INDEX holds an ACCESS EXCLUSIVE lock on
 * the event table until the migrations' one transaction commits, so nothing may be built after it
 * in that transaction (reads of the log would wait for the build).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists event_type`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index event_type on event (type, position)`.execute(db);
}
