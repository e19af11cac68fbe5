-- A time-ordered UUID (RFC 9562, version 7): 48 bits of Unix milliseconds, then random bits. The
-- notifications' ids are made with it, so that each new id goes to the right edge of their unique
-- index instead of a random page, which after every checkpoint cost a full-page image in the WAL and
-- often a read. PostgreSQL 18 has uuidv7(); on 15 it is gen_random_uuid() with its first six bytes
-- replaced by the time and its version nibble turned from 4 into 7 (bits 52 and 53 set).
create or replace function uuid_v7() returns uuid language sql volatile parallel safe as $$
  select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                        placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                                        from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
$$;
