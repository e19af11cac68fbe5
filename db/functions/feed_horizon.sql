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
-- pg_locks and pg_stat_activity: a transaction the snapshot saw running and the lock table shows
-- still running on a connection holding the feed-exempt lock began after that lock was taken (the
-- rebuild takes it outside any transaction), so it is the rebuild's. A transaction those views no
-- longer show is kept, which only holds the horizon back. Running ids are within 2^31 of each
-- other, so their low 32 bits (the xid the views show) name each of them alone.
create or replace function feed_horizon() returns xid8 language sql stable as $$
  select coalesce((
    select min(x.id) from pg_snapshot_xip(s) as x(id)
    where (x.id::text::bigint & 4294967295) not in (
      select t.transactionid::text::bigint from pg_locks t
      where t.locktype = 'transactionid' and t.mode = 'ExclusiveLock' and t.granted and t.transactionid is not null
        and t.pid in (
          select r.pid from pg_locks r
          where r.locktype = 'advisory' and r.objsubid = 1 and r.granted
            and r.database = (select d.oid from pg_database d where d.datname = current_database())
            and ((r.classid::bigint << 32) | r.objid::bigint) = feed_exempt_lock_key())
      union all
      select a.backend_xid::text::bigint from pg_stat_activity a
      where a.backend_xid is not null
        and a.datid is distinct from (select d.oid from pg_database d where d.datname = current_database()))
  ), pg_snapshot_xmax(s))
  from pg_current_snapshot() s
$$;
