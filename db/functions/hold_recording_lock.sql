-- Held by an append from just before it reads its recorded_at until it commits: a shared advisory
-- lock named by a moment no later than that recorded_at (its whole milliseconds since 1970), in
-- the two-key form, which nothing else here uses. A reader finds in pg_locks, with
-- recording_lock_moment.sql, the earliest moment an append still under way may have recorded at
-- (src/store/known-horizon.ts): before it, everything recorded is committed. Shared and named by a
-- moment, it never makes an append wait.
create or replace function hold_recording_lock(p_at timestamptz) returns void language sql as $$
  select pg_advisory_xact_lock_shared(
    (m >> 32)::int4,
    -- The low 32 bits as a signed int4 (pg_locks shows them back as an unsigned oid).
    (case when m & 4294967295 >= 2147483648 then (m & 4294967295) - 4294967296 else m & 4294967295 end)::int4)
  from (select floor(extract(epoch from p_at) * 1000)::bigint as m) t
$$;
