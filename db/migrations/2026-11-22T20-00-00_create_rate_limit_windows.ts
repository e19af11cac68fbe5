import { sql, type Kysely } from 'kysely';

/*
 * Rate-limit counters shared by every instance on the database, so that N instances behind a
 * balancer allow a key RATE_LIMIT_PER_MINUTE requests a minute in all, not N times that. Unlogged:
 * the counters are worth nothing after a crash, and skipping the WAL keeps the per-request upsert cheap.
 * One row per bucket (an API key): the table is as large as the key list and needs no cleaning.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create unlogged table rate_limit_window (
      bucket text primary key,
      started_at timestamptz not null,
      hits integer not null check (hits > 0)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table rate_limit_window`.execute(db);
}
