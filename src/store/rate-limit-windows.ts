import { sql } from 'kysely';
import type { Db } from './database.js';

export interface WindowCount {
  /** Requests counted in the current window, these ones included. */
  readonly hits: number;
  /** Milliseconds until the window ends and the count starts again. */
  readonly msLeft: number;
}

/** Requests of one bucket to count. */
export interface BucketTake {
  readonly bucket: string;
  readonly take: number;
}

/**
 * Counts each bucket's `take` requests against its fixed window (count_requests.sql), every bucket
 * in one statement, one round trip; the buckets must be distinct. A lock not granted within a
 * second (a table another session holds) fails the whole call.
 */
export async function countRequests(db: Db, takes: readonly BucketTake[], windowMs: number): Promise<Map<string, WindowCount>> {
  const { rows } = await sql<{ bucket: string; hits: number; ms_left: number }>`
    select bucket, hits, ms_left from count_requests(${takes.map((t) => t.bucket)}::text[], ${takes.map((t) => t.take)}::integer[], ${windowMs}::integer)`.execute(db);
  const counts = new Map(rows.map((row) => [row.bucket, { hits: row.hits, msLeft: row.ms_left }]));
  const missing = takes.find((t) => !counts.has(t.bucket));
  if (missing !== undefined) throw new Error(`counting the requests of ${missing.bucket} returned no row`);
  return counts;
}
