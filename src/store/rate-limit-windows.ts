import { sql } from 'kysely';
import type { Db } from './database.js';

export interface WindowCount {
  /** Requests counted in the current window, these ones included. */
  readonly hits: number;
  /** Milliseconds until the window ends and the count starts again. */
  readonly msLeft: number;
}

/**
 * Counts `take` requests against a bucket's fixed window, which starts with the first request after
 * the previous window ended. One statement: the upsert's row lock orders concurrent requests of one
 * bucket from every instance, so no two of them read the same count.
 */
export async function countRequest(db: Db, bucket: string, windowMs: number, take = 1): Promise<WindowCount> {
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
