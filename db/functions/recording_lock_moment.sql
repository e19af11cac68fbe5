-- The moment a recording lock (hold_recording_lock.sql) is named by, from the two keys pg_locks
-- shows for it: whole milliseconds since 1970.
create or replace function recording_lock_moment(p_classid oid, p_objid oid) returns timestamptz
language sql immutable parallel safe as $$
  select timestamptz 'epoch' + ((p_classid::bigint << 32) | p_objid::bigint) * interval '1 millisecond'
$$;
