-- The feed's horizon: every transaction with a smaller id that may still add a row to the event or
-- notification log has ended. Readers of the feed take rows by (tx, position) below it, so that a
-- transaction still running, whose id is below that of one already committed, is not skipped when
-- it commits. The oldest transaction id running on the server (pg_snapshot_xmin) bounds it, but
-- holds it back for transactions that can add no such row: those of another database (the logs are
-- this database's), and those of a connection holding the feed-exempt lock (feed_exempt_lock_key.sql,
-- the rebuild's: its fold of a busy cell, its index builds run for minutes; found holding the feed
-- and its gauges back 50 to 492 s by the probe of the rebuild at scale). So the horizon is the
-- smallest id of the snapshot's running transactions but those, else the snapshot's xmax.
--
-- Stable, so it reads the calling statement's snapshot (pg_current_snapshot), taken before it reads
-- pg_locks: a transaction the snapshot saw running that the lock table shows still running on a
-- connection holding the feed-exempt lock began after that lock was taken (the rebuild takes it
-- outside any transaction), so it is the rebuild's; one still running on a connection holding a
-- lock in another database (every transaction with an id has locked what it wrote, until it ends)
-- is that database's, a connection's database never changing. A transaction the lock table no
-- longer shows is kept, which only holds the horizon back; so is one of another database that has
-- an id and has locked nothing there (pg_current_xact_id() alone). Running ids are within 2^31 of
-- each other, so their low 32 bits (the xid pg_locks shows) name each of them alone.
--
-- PL/pgSQL, so that its plan is made once a connection (a SQL function's is made at every call:
-- 1.6 ms a call, with pg_stat_activity, against 0.08 for the snapshot's xmin alone); pg_locks is
-- read only while some transaction is running.
create or replace function feed_horizon() returns xid8 language plpgsql stable
set plan_cache_mode = force_generic_plan set jit = off set enable_seqscan = off as $$
declare
  s pg_snapshot := pg_current_snapshot();
  v_oldest xid8;
begin
  if pg_snapshot_xmin(s) = pg_snapshot_xmax(s) then
    return pg_snapshot_xmax(s);
  end if;
  with l as materialized (
    select locktype, database, pid, classid, objid, objsubid, transactionid, mode, granted from pg_locks
  ), passed as (
    select t.transactionid::text::bigint as xid from l t
    where t.locktype = 'transactionid' and t.mode = 'ExclusiveLock' and t.granted
      and t.pid in (
        select r.pid from l r
        where r.granted and r.database is not null and r.database <> 0
          and (r.database <> (select d.oid from pg_database d where d.datname = current_database())
               or (r.locktype = 'advisory' and r.objsubid = 1
                   and ((r.classid::bigint << 32) | r.objid::bigint) = feed_exempt_lock_key())))
  )
  select min(x.id) into v_oldest from pg_snapshot_xip(s) as x(id)
  where (x.id::text::bigint & 4294967295) not in (select p.xid from passed p where p.xid is not null);
  return coalesce(v_oldest, pg_snapshot_xmax(s));
end $$;
