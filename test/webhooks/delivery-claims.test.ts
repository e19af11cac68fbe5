import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { claimDeliveries } from '../../src/store/webhook-deliveries.js';
import { costOf, statementRecorder } from '../support/statement-cost.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, subscribe } from '../support/test-dispatcher.js';

/*
 * What a claim of due deliveries reads and which it takes, on backlogs written straight into the
 * tables (as the fan-out of thousands of appends would leave them), without statistics on them: a
 * server without autovacuum, or a table that grew faster than autovacuum analyzes it (the probe of
 * webhooks at volume: 150,000 deliveries in three minutes).
 */

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

/**
 * `count` pending deliveries of one subscription, due from `dueFrom` on, `apartMs` apart (0: all at
 * once, as a recover or the reaper of expired leases makes them due), each of a notification of its
 * own for it alone (as a test ping's: the fan-out makes the delivery).
 */
async function backlog(subscriptionId: string, count: number, dueFrom: string, apartMs = 1): Promise<void> {
  await sql`
    insert into notification (topic, data, only_subscription)
    select 'webhook.test', jsonb_build_object('n', n), ${subscriptionId}::uuid from generate_series(1, ${count}::integer) n`.execute(t.database.db);
  await sql`
    update webhook_delivery d
    set next_attempt_at = ${dueFrom}::timestamptz + (d.notification_position - first.position) * ${apartMs}::integer * interval '1 millisecond'
    from (select min(notification_position) as position from webhook_delivery where subscription_id = ${subscriptionId}::uuid) first
    where d.subscription_id = ${subscriptionId}::uuid`.execute(t.database.db);
}

/** Parks every pending delivery of the subscriptions, so that the next test's claims do not take them. */
const parked: string[] = [];
afterEach(async () => {
  if (parked.length > 0) await sql`update subscription set status = 'paused' where id = any (${parked}::uuid[])`.execute(t.database.db);
  parked.length = 0;
});

async function subscription(path: string, maxInFlight = 4): Promise<string> {
  const { id } = await subscribe(t.app, { url: `https://127.0.0.1:9/${path}`, topics: ['*'], maxInFlight });
  parked.push(id);
  return id;
}

describe('claiming due deliveries', () => {
  it("reads about as many deliveries as it takes, whatever a subscription's backlog: 20,000 due read like 20", async () => {
    const small = await subscription('small');
    const large = await subscription('large');
    await backlog(small, 20, '2026-01-01T00:00:00Z');
    await backlog(large, 20, '2026-01-01T00:00:00Z');
    // Statistics taken while the backlog was small, as autovacuum last saw the table: the planner
    // then expects a row or two of the subscription, and sorted all it found (the probe: 43,123 rows).
    await sql`analyze webhook_delivery`.execute(t.database.db);
    // Due all at once, as a recover makes them: a claim's order within one instant is the notifications'.
    await backlog(large, 20_000, '2026-01-01T00:00:00Z', 0);
    const recorder = statementRecorder();

    const claimed = await claimDeliveries(recorder.wrap(t.database.db), 'claims test', 8, 60);
    // Put back as they were, and the claim's statements run again as they ran, then rolled back.
    await sql`
      update webhook_delivery set state = 'pending', lease_id = null, lease_until = null, leased_by = null, leased_at = null,
             leased_for = null, attempt_count = 0
      where id = any (${claimed.map((d) => d.id)}::uuid[])`.execute(t.database.db);
    const cost = await costOf(t.database.db, recorder.take(), 'rolled back');

    expect(claimed).toHaveLength(8);
    // The claim's statements read the subscriptions and, of each, the deliveries it may take: tens of
    // rows, not the large one's whole due list (before the index took the claim's order, 20,000 and a sort).
    expect(cost.tuples, cost.detail.join('\n')).toBeLessThan(400);
  });

  it('takes the first due delivery of every subscription before the second of any, so that a backlog does not hold back the others', async () => {
    const behind = await subscription('behind');
    const healthy = await subscription('healthy');
    // The backlog is older than the other subscription's one delivery: taken in due order alone,
    // a claim of four took the backlog's four, and the healthy subscription waited for all of it.
    await backlog(behind, 50, '2026-01-01T00:00:00Z');
    await backlog(healthy, 1, '2026-02-01T00:00:00Z');

    const claimed = await claimDeliveries(t.database.db, 'claims test', 4, 60);

    expect(claimed).toHaveLength(4);
    expect(claimed.filter((d) => d.subscriptionId === healthy)).toHaveLength(1);
    expect(claimed.filter((d) => d.subscriptionId === behind)).toHaveLength(3);
  });
});
