-- The advisory lock (one bigint key, held shared for the session) of a connection none of whose
-- transactions records an event or a notification: the rebuild's (src/store/read-model-rebuild.ts).
-- The feed's horizon (feed_horizon.sql) passes the transactions of such a connection, so that a
-- fold of a busy cell running for minutes holds back no reader of the feed.
create or replace function feed_exempt_lock_key() returns bigint language sql immutable parallel safe as $$
  select hashtextextended('ml_feed_exempt', 0)
$$;
