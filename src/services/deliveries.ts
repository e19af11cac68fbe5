import { DeliveryInFlightError, SubjectNotFoundError } from '../domain/errors.js';
import { messageIdOf } from '../domain/notification-message.js';
import type { Db } from '../store/database.js';
import { decodeAttemptCursor, encodeAttemptCursor } from '../store/page-cursor.js';
import type { CursorScope } from '../store/cursor-scope.js';
import { getSubscription } from './subscriptions.js';
import {
  findAttempts,
  findDelivery,
  listDeliveries,
  requeueDelivery,
  requeueFailedDeliveries,
  type AttemptLogEntry,
  type DeliveryRecord,
  type DeliveryState,
} from '../store/delivery-log.js';

export type { AttemptLogEntry, DeliveryRecord, DeliveryState };

export interface DeliveryView extends DeliveryRecord {
  /** The webhook-id header of every attempt of this delivery. */
  readonly messageId: string;
}

/** A subscription's webhook deliveries: read them with their attempts, and send them again. */
export interface Deliveries {
  readonly getDelivery: (
    id: string,
    page: { after: string | undefined; limit: number },
  ) => Promise<DeliveryView & { readonly attempts: AttemptLogEntry[]; readonly nextCursor: string | undefined }>;
  readonly pageDeliveries: (
    subscriptionId: string,
    options: { state?: DeliveryState | undefined; before?: string | undefined; limit: number },
  ) => Promise<DeliveryPage>;
  readonly redeliver: (id: string) => Promise<DeliveryView>;
  readonly recoverDeliveries: (subscriptionId: string, since: Date, until: Date | undefined) => Promise<number>;
}

export function createDeliveries(db: Db): Deliveries {
  return {
    getDelivery: getDelivery.bind(null, db),
    pageDeliveries: pageDeliveries.bind(null, db),
    redeliver: redeliver.bind(null, db),
    recoverDeliveries: recoverDeliveries.bind(null, db),
  };
}

const withMessageId = (delivery: DeliveryRecord): DeliveryView => ({ ...delivery, messageId: messageIdOf(delivery.notificationId) });

async function getDelivery(
  db: Db,
  id: string,
  page: { after: string | undefined; limit: number },
): Promise<DeliveryView & { readonly attempts: AttemptLogEntry[]; readonly nextCursor: string | undefined }> {
  const delivery = await findDelivery(db, id);
  if (delivery === undefined) throw new SubjectNotFoundError('delivery', id);
  // The stored id, not the path's text: a uuid may be asked for in capitals.
  const scope: CursorScope = { list: 'attempts', subject: delivery.id };
  const after = page.after === undefined ? undefined : decodeAttemptCursor(page.after, scope);
  const attempts = await findAttempts(db, id, after, page.limit);
  return { ...withMessageId(delivery), attempts: attempts.items, nextCursor: attempts.last === undefined ? undefined : encodeAttemptCursor(scope, attempts.last) };
}

export interface DeliveryPage {
  readonly deliveries: DeliveryView[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  readonly nextBefore: string | undefined;
}

async function pageDeliveries(
  db: Db,
  subscriptionId: string,
  options: { state?: DeliveryState | undefined; before?: string | undefined; limit: number },
): Promise<DeliveryPage> {
  const subscription = await getSubscription(db, subscriptionId);
  const anchor = options.before === undefined ? undefined : await findDelivery(db, options.before);
  if (options.before !== undefined && anchor === undefined) throw new SubjectNotFoundError('delivery', options.before);
  // Another subscription's delivery is no place in this one's list: paged from its instant, the page
  // answered 200 short or empty.
  if (options.before !== undefined && anchor !== undefined && anchor.subscriptionId !== subscription.id) {
    throw new SubjectNotFoundError('delivery', options.before, `it is not a delivery of subscription '${subscriptionId}': pass a nextBefore of this subscription's own deliveries`);
  }
  const { items, last } = await listDeliveries(db, { subscriptionId, state: options.state, before: anchor?.id, limit: options.limit });
  return { deliveries: items.map(withMessageId), nextBefore: last?.id };
}

/** Attempts the delivery again now, with the same webhook-id (trigger 'manual' in the attempt log). */
async function redeliver(db: Db, id: string): Promise<DeliveryView> {
  const result = await requeueDelivery(db, id);
  if (result === undefined) throw new SubjectNotFoundError('delivery', id);
  if (result === 'in_flight') throw new DeliveryInFlightError(id);
  return withMessageId(result);
}

/** Queues again the subscription's failed deliveries created since `since` (and before `until`). */
async function recoverDeliveries(db: Db, subscriptionId: string, since: Date, until: Date | undefined): Promise<number> {
  await getSubscription(db, subscriptionId);
  return requeueFailedDeliveries(db, subscriptionId, since, until);
}
