import { sql, type Kysely } from 'kysely';

/*
 * The notification feed (GET /v1/feed, with or without follow) filtered by topic, program or
 * consortium, read in the feed's order, (tx, position), as the event feed is (migration
 * 2026-12-04T19-30-00): a page walked the whole feed dropping what the filter rejected (on a 1M
 * history, 123,844 notifications passed over for the first page of 100 of a program of 927 events,
 * 79 ms). With these, a page is the first `limit` entries of one range a topic, program or
 * consortium (src/store/notifications.ts, readNotifications). Test pings, listed to no one, are
 * left out of them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index notification_topic_feed on notification (topic, tx, position) where only_subscription is null`.execute(db);
  await sql`
    create index notification_program_feed on notification (program_id, tx, position)
    where program_id is not null and only_subscription is null`.execute(db);
  await sql`
    create index notification_consortium_feed on notification (consortium_id, tx, position)
    where consortium_id is not null and only_subscription is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index notification_consortium_feed`.execute(db);
  await sql`drop index notification_program_feed`.execute(db);
  await sql`drop index notification_topic_feed`.execute(db);
}
