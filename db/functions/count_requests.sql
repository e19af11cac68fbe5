-- Counts requests against buckets' fixed windows, each of which starts with the first request after
-- the previous one ended: `p_takes[i]` requests of `p_buckets[i]` (buckets distinct), in one
-- statement for every key of an instance waiting for a count (src/services/rate-limits.ts). An
-- upsert: its row locks order the counts of one bucket from every instance, so no two read the same
-- count; taken in bucket order, so that two instances' calls lock alike. Its lock waits are bounded
-- (the function's own lock_timeout), not the statement: a slow database still counts, a table
-- another session holds (LOCK TABLE, VACUUM FULL) fails the count within a second, and the
-- requests go through uncounted. A function, so that this is one round trip; as a transaction of its
-- own, setting its lock timeout, a count took four (BEGIN, the setting, the upsert, COMMIT).
create or replace function count_requests(p_buckets text[], p_takes integer[], p_window_ms integer)
returns table (bucket text, hits integer, ms_left integer) language sql
set lock_timeout = '1s'
as $$
  insert into rate_limit_window as w (bucket, started_at, hits)
  select u.bucket, now(), u.take from unnest(p_buckets, p_takes) as u(bucket, take) order by u.bucket
  on conflict (bucket) do update
    set started_at = case when w.started_at + p_window_ms * interval '1 millisecond' <= now() then now() else w.started_at end,
        hits = case when w.started_at + p_window_ms * interval '1 millisecond' <= now() then 0 else w.hits end + excluded.hits
  returning w.bucket, w.hits, ceil(extract(epoch from w.started_at + p_window_ms * interval '1 millisecond' - now()) * 1000)::integer
$$;
