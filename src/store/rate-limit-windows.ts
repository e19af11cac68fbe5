import { sql } from 'kysely';
import type { Db } from './database.js';

export interface WindowCount {
  /** Requests counted in the current window, these ones included. */
  readonly hits: number;
  /** Milliseconds until the window ends and the count starts again. */
  readonly msLeft: number;
}

/**
 * How long a count waits for a lock (the table's, its row's) before it fails, and the request goes
 * through uncounted: a count takes a row lock for a moment, so a longer wait is a table another
 * session holds (a LOCK TABLE, a VACUUM FULL), not a busy database, which still counts every request.
 */
const COUNT_LOCK_TIMEOUT = '1s';

/**
 * Counts `take` requests against a bucket's fixed window, which starts with the first request after
 * the previous window ended. One upsert: its row lock orders concurrent requests of one bucket from
 * every instance, so no two of them read the same count. In a transaction of its own only to bound
 * its wait for a lock (COUNT_LOCK_TIMEOUT), not the statement: a slow database still counts.
 */
export async function countRequest(db: Db, bucket: string, windowMs: number, take = 1): Promise<WindowCount> {
  return db.transaction().execute(async (trx) => {
    await sql`select set_config('lock_timeout', ${COUNT_LOCK_TIMEOUT}, true)`.execute(trx);
    return upsertCount(trx, bucket, windowMs, take);
  });
}

async function upsertCount(db: Db, bucket: string, windowMs: number, take: number): Promise<WindowCount> {
  const window = sql`${windowMs} * interval '1 millisecond'`;
  const expired = sql`w.started_at + ${window} <= now()`;
  const { rows } = await sql<{ hits: number; ms_left: number }>`
    insert into rate_limit_window as w (bucket, started_at, hits) values (${bucket}, now(), ${take}::integer)
    on conflict (bucket) do update
      set started_at = case when ${expired} then now() else w.started_at end,
          hits = case when ${expired} then 0 else w.hits end + ${take}::integer
    returning hits, ceil(extract(epoch from started_at + ${window} - now()) * 1000)::integer as ms_left`.execute(db);
  const [row] = rows;
  if (row === undefined) throw new Error(`counting a request of ${bucket} returned no row`);
  return { hits: row.hits, msLeft: row.ms_left };
}
