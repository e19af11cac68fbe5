import { sql } from 'kysely';
import type { Db } from './database.js';

export type AttemptTrigger = 'scheduled' | 'manual' | 'recover';

/** A delivery a worker holds the lease of: it may attempt it, and only it may record the outcome. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly notificationId: string;
  readonly subscriptionId: string;
  readonly url: string;
  readonly attemptNo: number;
  /** The attempt's place in its retry schedule (1 for the first), which a requeue by hand starts again. */
  readonly scheduledAttemptNo: number;
  readonly leaseId: string;
  readonly trigger: AttemptTrigger;
}

const asTrigger = (value: string): AttemptTrigger => (value === 'manual' || value === 'recover' ? value : 'scheduled');

/**
 * Claims up to `limit` due deliveries: one short transaction, never held across an attempt. It
 * first locks the active subscriptions with due work, skipping those another instance is claiming
 * for; then, in a statement of its own (whose snapshot sees every claim committed before the locks
 * were taken), counts their attempts in flight and takes each one's oldest due deliveries up to its
 * free slots. So two instances never claim one delivery, and a subscription's cap holds across them.
 */
export async function claimDeliveries(db: Db, instance: string, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  return db.transaction().execute(async (trx) => {
    const { rows: locked } = await sql<{ id: string }>`
      select s.id from subscription s
      where s.status = 'active'
        and exists (select 1 from webhook_delivery d
                    where d.subscription_id = s.id and d.state = 'pending' and d.next_attempt_at <= now())
      -- NO KEY: the fan-out of a concurrent append holds KEY SHARE on the row (its foreign key); that
      -- must not make a claim skip the subscription, nor the append wait for the claim.
      for no key update of s skip locked`.execute(trx);
    if (locked.length === 0) return [];
    const { rows } = await sql<{
      id: string;
      notification_id: string;
      subscription_id: string;
      url: string;
      attempt_count: number;
      scheduled_attempt: number;
      lease_id: string;
      next_trigger: string;
    }>`
      with subs as (
        select s.id, s.url,
               s.max_in_flight - (select count(*) from webhook_delivery f
                                  where f.subscription_id = s.id and f.state = 'in_flight')::integer as free
        from subscription s
        where s.id = any (${locked.map((s) => s.id)}::uuid[])
      ), chosen as (
        select due.id, subs.url, gen_random_uuid() as lease_id from subs
        cross join lateral (
          select d.id, d.next_attempt_at, d.notification_position,
                 row_number() over (order by d.next_attempt_at, d.notification_position) as turn
          from webhook_delivery d
          where d.subscription_id = subs.id and d.state = 'pending' and d.next_attempt_at <= now()
          order by d.next_attempt_at, d.notification_position
          limit greatest(subs.free, 0)
        ) due
        -- Each subscription's first due delivery before any subscription's second, and so on: in
        -- order of when they were due alone, a subscription with a backlog older than the others'
        -- deliveries had all its places filled first at every claim, and the others waited minutes
        -- behind it with places free (the probe of webhooks at volume).
        order by due.turn, due.next_attempt_at, due.notification_position
        limit ${limit}
      )
      update webhook_delivery d
      set state = 'in_flight', lease_id = chosen.lease_id, lease_until = now() + make_interval(secs => ${leaseSeconds}),
          leased_by = ${instance}, leased_at = now(), leased_for = chosen.lease_id,
          attempt_count = d.attempt_count + 1
      from chosen
      where d.id = chosen.id and d.state = 'pending' and d.next_attempt_at <= now()
      returning d.id, d.notification_id, d.subscription_id, chosen.url, d.attempt_count,
                d.attempt_count - d.schedule_start as scheduled_attempt, d.lease_id, d.next_trigger`.execute(trx);
    return rows.map((r) => ({
      id: r.id,
      notificationId: r.notification_id,
      subscriptionId: r.subscription_id,
      url: r.url,
      attemptNo: r.attempt_count,
      scheduledAttemptNo: r.scheduled_attempt,
      leaseId: r.lease_id,
      trigger: asTrigger(r.next_trigger),
    }));
  });
}

/**
 * Puts deliveries whose lease ran out (their worker died or hung) back in the queue, at their place
 * in it: due when they were before the claim, so a subscription's next claim takes them before what
 * fell due since (until 2026-12-06 they were due anew, behind it, and a subscription of one attempt
 * at a time got its deliveries out of order after a crash; found by the probe of webhook leases).
 * Only the first time: a delivery whose lease ran out before goes behind what is due, as before.
 * Logs the lost attempt under the instance that held it, from when it took it, and returns the
 * holder of each, as logged. The holder is
 * believed only for the lease it names (leased_for): a claim by a release before
 * 2026-12-06T06-00-00 (a rolling upgrade) sets none and may leave an earlier claim's, and its lost
 * attempt is logged under the reclaiming instance, now, as before. This is what makes delivery at
 * least once.
 */
export async function reapExpiredLeases(db: Db, instance: string): Promise<string[]> {
  const { rows } = await sql<{ instance: string }>`
    with held as (
      -- Read before the update clears them. A row another reaper is putting back is skipped.
      select id, case when leased_for = lease_id then leased_by end as leased_by,
                 case when leased_for = lease_id then leased_at end as leased_at
      from webhook_delivery
      where state = 'in_flight' and lease_until < now()
      for no key update skip locked
    ), expired as (
      update webhook_delivery d
      set state = 'pending', lease_id = null, lease_until = null, leased_by = null, leased_at = null, leased_for = null,
          -- Its place kept once: one whose attempts have lost their lease before may be what stops its
          -- workers, and first in line for ever it would hold its subscription up for good (the review).
          next_attempt_at = case when exists (select 1 from webhook_attempt a where a.delivery_id = d.id and a.trigger = 'lease_expired')
                                 then now() else d.next_attempt_at end
      from held h
      where d.id = h.id
      returning d.id, d.attempt_count, h.leased_by, h.leased_at
    ), logged as (
      insert into webhook_attempt (delivery_id, attempt_no, trigger, instance, started_at, duration_ms, error_kind, error_detail)
      select e.id, e.attempt_count, 'lease_expired', coalesce(e.leased_by, ${instance}), coalesce(e.leased_at, now()),
             -- Held for as long as a month or more (every instance down, a backup restored) still fits the column.
             least(coalesce(extract(epoch from now() - e.leased_at) * 1000, 0), 2147483647)::integer, 'lease_expired',
             'the worker holding this attempt stopped before recording its outcome; its lease ran out and instance ' || ${instance} || ' put it back in the queue'
      from expired e
      returning instance
    )
    select instance from logged`.execute(db);
  return rows.map((r) => r.instance);
}

/** Whether a delivery is still there: a subscription's deletion takes its deliveries with it. */
export async function deliveryExists(db: Db, id: string): Promise<boolean> {
  const found = await db.selectFrom('webhook_delivery').select('id').where('id', '=', id).executeTakeFirst();
  return found !== undefined;
}

export interface AttemptRecord {
  readonly trigger: AttemptTrigger;
  readonly instance: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly responseStatus: number | null;
  readonly errorKind: string | null;
  readonly errorDetail: string | null;
  readonly responseBody: string;
}

export type AttemptResult =
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'retry'; readonly delaySeconds: number }
  | { readonly kind: 'failed' };

export interface FinishedAttempt {
  readonly deliveryId: string;
  readonly leaseId: string;
  readonly attempt: AttemptRecord;
  readonly result: AttemptResult;
  /** 410 Gone: the endpoint asked never to be called again. */
  readonly gone: boolean;
  /**
   * False for an attempt the dispatcher cut short itself (stopping): it uses up no retry of the
   * schedule, and says nothing of the endpoint's health.
   */
  readonly counts: boolean;
  /** A subscription failing for longer than this is disabled. */
  readonly disableAfterSeconds: number;
}

/**
 * Records an attempt's outcome, fenced on the lease: if the lease was lost (reaped and claimed
 * again), nothing is written and false is returned. Also keeps the subscription's failure clock:
 * any success clears it, a 410 or failing for longer than allowed disables the subscription.
 */
export async function finishAttempt(db: Db, f: FinishedAttempt): Promise<boolean> {
  const state = f.result.kind === 'retry' ? 'pending' : f.result.kind;
  const delay = f.result.kind === 'retry' ? f.result.delaySeconds : 0;
  const succeeded = f.result.kind === 'succeeded';
  const a = f.attempt;
  const { rows } = await sql<{ n: number }>`
    with finished as (
      update webhook_delivery
      -- An attempt that does not count (aborted, or never sent) keeps its trigger for the next one:
      -- a redelivery by hand is still logged as one.
      set state = ${state}, lease_id = null, lease_until = null, leased_by = null, leased_at = null, leased_for = null, next_trigger = case when ${f.counts} then 'scheduled' else next_trigger end,
          schedule_start = case when ${f.counts} then schedule_start else schedule_start + 1 end,
          next_attempt_at = case when ${state} = 'pending' then now() + make_interval(secs => ${delay}) else next_attempt_at end,
          completed_at = case when ${state} = 'pending' then null else now() end,
          last_status = ${a.responseStatus}, last_error = ${a.errorKind === null ? null : `${a.errorKind}: ${a.errorDetail ?? ''}`}
      where id = ${f.deliveryId} and lease_id = ${f.leaseId} and state = 'in_flight'
      returning id, subscription_id, attempt_count
    ), logged as (
      insert into webhook_attempt (delivery_id, attempt_no, trigger, instance, started_at, duration_ms,
                                   response_status, error_kind, error_detail, response_body)
      select id, attempt_count, ${a.trigger}, ${a.instance}, ${a.startedAt}, ${Math.round(a.durationMs)},
             ${a.responseStatus}, ${a.errorKind}, ${a.errorDetail}, ${a.responseBody}
      from finished
    ), subscription_health as (
      update subscription s
      set failing_since = case when ${succeeded} then null else coalesce(s.failing_since, now()) end,
          status = case when ${f.gone} then 'disabled'
                        when not ${succeeded} and s.failing_since < now() - make_interval(secs => ${f.disableAfterSeconds}) then 'disabled'
                        else s.status end,
          disabled_reason = case when ${f.gone} then 'gone'
                                 when not ${succeeded} and s.failing_since < now() - make_interval(secs => ${f.disableAfterSeconds}) then 'failing'
                                 else s.disabled_reason end,
          updated_at = now()
      from finished
      -- Only when something changes: a success on a healthy subscription leaves its row alone.
      where s.id = finished.subscription_id and ${f.counts}
        and (${f.gone}
             or (${succeeded} and s.failing_since is not null)
             or (not ${succeeded} and (s.failing_since is null
                                       or s.failing_since < now() - make_interval(secs => ${f.disableAfterSeconds}))))
    )
    select count(*)::integer as n from finished`.execute(db);
  return (rows[0]?.n ?? 0) === 1;
}
