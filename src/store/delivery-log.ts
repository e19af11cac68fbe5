import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { Database, Db } from './database.js';
import { pageOf, pageRead } from './page-read.js';
import type { AttemptRecord, AttemptTrigger } from './webhook-deliveries.js';

export type DeliveryState = 'pending' | 'in_flight' | 'succeeded' | 'failed';

export interface DeliveryRecord {
  readonly id: string;
  readonly subscriptionId: string;
  readonly notificationId: string;
  readonly topic: string;
  readonly state: DeliveryState;
  readonly attemptCount: number;
  readonly nextAttemptAt: Date | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly completedAt: Date | null;
}

/** An attempt as logged: as recorded, or written by the reaper for a lease that ran out (no body). */
export interface AttemptLogEntry extends Omit<AttemptRecord, 'trigger' | 'responseBody'> {
  readonly attemptNo: number;
  readonly trigger: AttemptTrigger | 'lease_expired';
  readonly responseBody: string | null;
}

const STATES: readonly DeliveryState[] = ['pending', 'in_flight', 'succeeded', 'failed'];
const asState = (value: string): DeliveryState => STATES.find((s) => s === value) ?? 'pending';
const TRIGGERS = ['scheduled', 'manual', 'recover', 'lease_expired'] as const;
const asTrigger = (value: string) => TRIGGERS.find((t) => t === value) ?? 'scheduled';

function deliveries(db: Db) {
  return db
    .selectFrom('webhook_delivery as d')
    .innerJoin('notification as n', 'n.id', 'd.notification_id')
    .select([
      'd.id',
      'd.subscription_id',
      'd.notification_id',
      'n.topic',
      'd.state',
      'd.attempt_count',
      'd.next_attempt_at',
      'd.last_status',
      'd.last_error',
      'd.created_at',
      'd.completed_at',
    ]);
}

type DeliveryRow = Awaited<ReturnType<ReturnType<typeof deliveries>['executeTakeFirstOrThrow']>>;

function toDeliveryRecord(row: DeliveryRow): DeliveryRecord {
  const state = asState(row.state);
  return {
    id: row.id,
    subscriptionId: row.subscription_id,
    notificationId: row.notification_id,
    topic: row.topic,
    state,
    attemptCount: row.attempt_count,
    nextAttemptAt: state === 'pending' ? row.next_attempt_at : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: row.created_at,
    completedAt: row.completed_at,
  };
}

export async function findDelivery(db: Db, id: string): Promise<DeliveryRecord | undefined> {
  const row = await deliveries(db).where('d.id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toDeliveryRecord(row);
}

/**
 * A page of a delivery's attempts, oldest first, after the attempt `after` (its row id): every
 * redelivery by hand adds a schedule's worth, so the log is read a page at a time.
 */
export async function findAttempts(
  db: Db,
  deliveryId: string,
  after: string | undefined,
  limit: number,
): Promise<{ readonly items: AttemptLogEntry[]; readonly last: string | undefined }> {
  let query = db.selectFrom('webhook_attempt').selectAll().where('delivery_id', '=', deliveryId).orderBy('id').limit(pageRead(limit));
  if (after !== undefined) query = query.where('id', '>', after);
  const { items, last } = pageOf(await query.execute(), limit);
  return { items: items.map(toAttemptLogEntry), last: last?.id };
}

function toAttemptLogEntry(r: Selectable<Database['webhook_attempt']>): AttemptLogEntry {
  return {
    attemptNo: r.attempt_no,
    trigger: asTrigger(r.trigger),
    instance: r.instance,
    startedAt: r.started_at,
    durationMs: r.duration_ms,
    responseStatus: r.response_status,
    errorKind: r.error_kind,
    errorDetail: r.error_detail,
    responseBody: r.response_body,
  };
}

export interface DeliveryQuery {
  readonly subscriptionId: string;
  readonly state?: DeliveryState | undefined;
  /** The id of the last delivery of the previous page (pages run newest first, then by id). */
  readonly before?: string | undefined;
  readonly limit: number;
}

/** A page of a subscription's deliveries, newest first; `last` when more follow. */
export async function listDeliveries(db: Db, q: DeliveryQuery): Promise<{ readonly items: readonly DeliveryRecord[]; readonly last: DeliveryRecord | undefined }> {
  let query = deliveries(db).where('d.subscription_id', '=', q.subscriptionId);
  if (q.state !== undefined) query = query.where('d.state', '=', q.state);
  // The anchor's own creation instant, read in SQL: to the microsecond, as a JavaScript Date is not.
  // Read back as a Date, the deliveries one fan-out created in the same millisecond after it were
  // passed over (a page of one, then an empty page, where there were two).
  if (q.before !== undefined) {
    query = query.where(sql<boolean>`(d.created_at, d.id) < (select a.created_at, a.id from webhook_delivery a where a.id = ${q.before}::uuid)`);
  }
  const rows = await query.orderBy('d.created_at', 'desc').orderBy('d.id', 'desc').limit(pageRead(q.limit)).execute();
  return pageOf(rows.map(toDeliveryRecord), q.limit);
}

/**
 * A delivery queued by hand, due now: its retry schedule starts again, so that one past its last
 * retry gets them all once more.
 */
const queuedByHand = (trigger: 'manual' | 'recover') => (eb: ExpressionBuilder<Database, 'webhook_delivery'>) => ({
  state: 'pending',
  next_attempt_at: sql<Date>`now()`,
  next_trigger: trigger,
  completed_at: null,
  schedule_start: eb.ref('attempt_count'),
});

/**
 * Queues one delivery for an attempt now, by hand, whatever its state, unless an attempt is in
 * flight. Returns the delivery as it now stands, or undefined if it does not exist.
 */
export async function requeueDelivery(db: Db, id: string): Promise<DeliveryRecord | 'in_flight' | undefined> {
  const updated = await db
    .updateTable('webhook_delivery')
    .set(queuedByHand('manual'))
    .where('id', '=', id)
    .where('state', '<>', 'in_flight')
    .returning('id')
    .executeTakeFirst();
  const current = await findDelivery(db, id);
  if (current === undefined) return undefined;
  return updated === undefined ? 'in_flight' : current;
}

/** Queues again every failed delivery of a subscription created in [since, until). */
export async function requeueFailedDeliveries(db: Db, subscriptionId: string, since: Date, until: Date | undefined): Promise<number> {
  let query = db
    .updateTable('webhook_delivery')
    .set(queuedByHand('recover'))
    .where('subscription_id', '=', subscriptionId)
    .where('state', '=', 'failed')
    .where('created_at', '>=', since);
  if (until !== undefined) query = query.where('created_at', '<', until);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
