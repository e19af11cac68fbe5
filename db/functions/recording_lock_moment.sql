-- The moment a recording lock (hold_recording_lock.sql) is named by, from the two keys pg_locks
-- shows for it (whole milliseconds since 1970); null for a two-key advisory lock without its tag
-- (0x4D4C in the first key's upper 16 bits), which is not one.
create or replace function recording_lock_moment(p_classid oid, p_objid oid) returns timestamptz
language sql immutable parallel safe as $$
  select case when p_classid::bigint >> 16 = 19788
    then timestamptz 'epoch' + (((p_classid::bigint & 65535) << 32) | p_objid::bigint) * interval '1 millisecond'
  end
$$;
