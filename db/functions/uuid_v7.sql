-- A time-ordered UUID (RFC 9562, version 7): 48 bits of Unix milliseconds, then random bits. The
-- notifications' ids are made with it, so that each new id goes to the right edge of their unique
-- index instead of a random page, which after every checkpoint cost a full-page image in the WAL and
-- often a read. It is gen_random_uuid() with its first six bytes replaced by the time (int8send is
-- big-endian: its last six bytes) and its version nibble turned from 4 into 7 (set_bit counts from
-- each byte's lowest bit: 52 and 53 are 0x10 and 0x20 of byte 6). PostgreSQL 18's own uuidv7() is
-- not used, on PGlite either: the server here is 15. Unlike it, and unlike the service's event ids
-- (the uuid package's, with a counter), ids made in the same millisecond are in no order; nothing
-- orders by them (position does), only their index is kept to its right edge.
create or replace function uuid_v7() returns uuid language sql volatile parallel safe as $$
  select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                        placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                                        from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
$$;
