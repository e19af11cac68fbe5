import { sql, type Kysely } from 'kysely';

/*
 * The event feed filtered by type, stream, program or consortium (GET /v1/events?type=&stream=&programId=&consortiumId=)
 * is read in the feed's order, (tx, position). No index had that order under a filter's key: a
 * page walked the whole feed dropping what the filter rejected (on a 1M history, 15,470 entries
 * passed over for a page of 100 of the busy program), or read every event of the program or
 * consortium and sorted them (70 ms for a consortium of 1,446 events): a cost that grew with the
 * filter's history, page after page. With these, a page is the first `limit` entries of one range
 * (src/store/event-store.ts, readFeed). The index by type and position (event_type) now serves
 * nothing; it stays for now: dropping it takes an ACCESS EXCLUSIVE lock on the table, which the
 * migrations' one transaction would hold while the indexes after it are built, stopping every read.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index event_type_feed on event (type, tx, position)`.execute(db);
  await sql`create index event_stream_feed on event (stream, tx, position)`.execute(db);
  await sql`create index event_program_feed on event (program_id, tx, position) where program_id is not null`.execute(db);
  await sql`create index event_consortium_feed on event (consortium_id, tx, position) where consortium_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index event_consortium_feed`.execute(db);
  await sql`drop index event_program_feed`.execute(db);
  await sql`drop index event_stream_feed`.execute(db);
  await sql`drop index event_type_feed`.execute(db);
}
