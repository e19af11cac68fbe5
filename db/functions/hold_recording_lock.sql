-- Held by an append from just before it reads its recorded_at until it commits: a shared advisory
-- lock named by a moment no later than that recorded_at (a clock read just before, in whole
-- milliseconds since 1970, rounded down), in the two-key form, the first key tagged 0x4D4C ("ML")
-- in its upper 16 bits. A reader finds in pg_locks, with recording_lock_moment.sql, the earliest
-- moment an append still under way may have recorded at (src/store/known-horizon.ts): before it,
-- everything recorded is committed. Shared and named by a moment, it makes no append wait (but for
-- a session that holds an exclusive advisory lock of the same two keys).
-- PL/pgSQL, not SQL: a SQL function with a FROM is never inlined, so every call parsed, analyzed
-- and planned its body again (fmgr_sql), about 5 % of PostgreSQL's time in an append of one fact
-- (perf, 2026-12-07); a PL/pgSQL function keeps its plan for the connection's life.
create or replace function hold_recording_lock(p_at timestamptz) returns void language plpgsql
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  m bigint := floor(extract(epoch from p_at) * 1000)::bigint;
begin
  perform pg_advisory_xact_lock_shared(
    -- The tag, and the moment's upper bits (below 2^16 until the year 10889).
    (1296826368 | (m >> 32))::int4,
    -- The low 32 bits as a signed int4 (pg_locks shows them back as an unsigned oid).
    (case when m & 4294967295 >= 2147483648 then (m & 4294967295) - 4294967296 else m & 4294967295 end)::int4);
end $$;
