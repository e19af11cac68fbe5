import { randomBytes, randomUUID } from 'node:crypto';
import { SubjectNotFoundError, TooManySecretsError, WebhookTargetRefusedError } from '../domain/errors.js';
import { MAX_LIVE_SIGNING_SECRETS, type SigningSecret, type Subscription, type SubscriptionFilter } from '../domain/subscription.js';
import { decodeCreatedCursor, encodeCreatedCursor } from '../store/page-cursor.js';
import type { CursorScope } from '../store/cursor-scope.js';
import type { Db } from '../store/database.js';
import { insertTestPing } from '../store/notifications.js';
import {
  deleteExpiredSecrets,
  deleteSubscription as deleteStoredSubscription,
  expireSigningSecrets,
  findDeliveryId,
  findSubscription,
  insertSigningSecret,
  insertSubscription,
  listSigningSecrets,
  listSubscriptions as listStoredSubscriptions,
  lockSubscription,
  updateSubscription as updateStoredSubscription,
  type SubscriptionChanges,
} from '../store/subscriptions.js';
import { checkWebhookUrl, type ResolveHost, type TargetRules } from './webhook-target-check.js';

const SUBSCRIPTIONS: CursorScope = { list: 'subscriptions' };

export type { SubscriptionChanges };

/** How webhook URLs are vetted at registration, and what a subscription gets unless it asks. */
export interface SubscriptionSettings {
  readonly rules: TargetRules;
  readonly resolve: ResolveHost;
  /** How long a registration waits for the resolver before it refuses the URL as unresolvable (default RESOLVE_TIMEOUT_MS). */
  readonly resolveTimeoutMs?: number;
  /** In-flight deliveries per subscription unless it sets its own. */
  readonly defaultMaxInFlight: number;
}

export interface NewSubscriptionRequest {
  readonly url: string;
  readonly topics: readonly string[];
  readonly filter?: SubscriptionFilter | undefined;
  readonly description?: string | undefined;
  readonly maxInFlight?: number | undefined;
}

export interface RotatedSecret {
  readonly secret: string;
  /** When the secrets it replaces stop signing. */
  readonly previousSecretsExpireAt: Date | null;
}

export interface TestPing {
  readonly notificationId: string;
  readonly deliveryId: string;
}

/** The webhook endpoints an admin registers, their URLs vetted by SubscriptionSettings, and their signing secrets. */
export interface SubscriptionRegistry {
  readonly createSubscription: (request: NewSubscriptionRequest) => Promise<Subscription & { readonly secret: string }>;
  readonly listSubscriptions: (page: { after: string | undefined; limit: number }) => Promise<{ items: Subscription[]; nextCursor: string | undefined }>;
  readonly getSubscription: (id: string) => Promise<Subscription>;
  readonly updateSubscription: (id: string, changes: SubscriptionChanges) => Promise<Subscription>;
  readonly deleteSubscription: (id: string) => Promise<void>;
  readonly getSigningSecrets: (id: string) => Promise<SigningSecret[]>;
  readonly rotateSecret: (id: string, overlapSeconds: number) => Promise<RotatedSecret>;
  readonly sendTestPing: (id: string) => Promise<TestPing>;
}

export function createSubscriptionRegistry(db: Db, settings: SubscriptionSettings): SubscriptionRegistry {
  return {
    createSubscription: createSubscription.bind(null, db, settings),
    listSubscriptions: listSubscriptions.bind(null, db),
    getSubscription: getSubscription.bind(null, db),
    updateSubscription: updateSubscription.bind(null, db, settings),
    deleteSubscription: deleteSubscription.bind(null, db),
    getSigningSecrets: getSigningSecrets.bind(null, db),
    rotateSecret: rotateSecret.bind(null, db),
    sendTestPing: sendTestPing.bind(null, db),
  };
}

/** 32 random bytes as Standard Webhooks writes a secret (the spec allows 24 to 64). */
const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

async function vetUrl(url: string, settings: SubscriptionSettings): Promise<void> {
  const verdict = await checkWebhookUrl(url, settings.rules, settings.resolve, settings.resolveTimeoutMs);
  if (!verdict.allowed) throw new WebhookTargetRefusedError(url, verdict.reason, verdict.detail);
}

/**
 * Registers a webhook endpoint with its first secret, which is returned. The URL is vetted first,
 * outside the transaction, so a slow resolver holds no connection; a refused URL stores nothing.
 */
async function createSubscription(
  db: Db,
  settings: SubscriptionSettings,
  request: NewSubscriptionRequest,
): Promise<Subscription & { readonly secret: string }> {
  await vetUrl(request.url, settings);
  return db.transaction().execute(async (trx) => {
    const subscription = await insertSubscription(trx, {
      id: randomUUID(),
      url: request.url,
      topics: request.topics,
      filter: request.filter ?? {},
      description: request.description ?? null,
      maxInFlight: request.maxInFlight ?? settings.defaultMaxInFlight,
    });
    const { secret } = await insertSigningSecret(trx, subscription.id, newSecret());
    return { ...subscription, secret };
  });
}

/** A page in creation order; `nextCursor` is set when more may follow. */
async function listSubscriptions(db: Db, page: { after: string | undefined; limit: number }): Promise<{ items: Subscription[]; nextCursor: string | undefined }> {
  const found = await listStoredSubscriptions(db, page.after === undefined ? undefined : decodeCreatedCursor(page.after, SUBSCRIPTIONS), page.limit);
  return { items: found.items, nextCursor: found.next === undefined ? undefined : encodeCreatedCursor(SUBSCRIPTIONS, found.next) };
}

export async function getSubscription(db: Db, id: string): Promise<Subscription> {
  const subscription = await findSubscription(db, id);
  if (subscription === undefined) throw new SubjectNotFoundError('subscription', id);
  return subscription;
}

/** Changes a subscription; a new URL is vetted as at registration. */
async function updateSubscription(db: Db, settings: SubscriptionSettings, id: string, changes: SubscriptionChanges): Promise<Subscription> {
  // An unknown id is a 404 whatever the URL, and a missing subscription is not worth a DNS query.
  await getSubscription(db, id);
  if (changes.url !== undefined) await vetUrl(changes.url, settings);
  const updated = await updateStoredSubscription(db, id, changes);
  if (updated === undefined) throw new SubjectNotFoundError('subscription', id);
  return updated;
}

async function deleteSubscription(db: Db, id: string): Promise<void> {
  if (!(await deleteStoredSubscription(db, id))) throw new SubjectNotFoundError('subscription', id);
}

/** The secrets deliveries are signed with now, newest first. */
async function getSigningSecrets(db: Db, id: string): Promise<SigningSecret[]> {
  await getSubscription(db, id);
  return listSigningSecrets(db, id);
}

/**
 * Issues a new current secret. The secrets that signed until now keep signing for `overlapSeconds`
 * (none longer), so receivers can switch over without rejecting a delivery.
 * A rotation with an overlap that would leave more than MAX_LIVE_SIGNING_SECRETS signing is refused
 * (TooManySecretsError) rather than retiring the oldest: a receiver may still verify with that one
 * alone. A rotation without overlap is always allowed; it is the answer to a leak.
 */
async function rotateSecret(db: Db, id: string, overlapSeconds: number): Promise<RotatedSecret> {
  return db.transaction().execute(async (trx) => {
    if (!(await lockSubscription(trx, id))) throw new SubjectNotFoundError('subscription', id);
    const live = await listSigningSecrets(trx, id);
    if (overlapSeconds > 0 && live.length >= MAX_LIVE_SIGNING_SECRETS) {
      const expiries = live.flatMap((s) => (s.expiresAt === null ? [] : [s.expiresAt.getTime()]));
      throw new TooManySecretsError(MAX_LIVE_SIGNING_SECRETS, expiries.length === 0 ? undefined : new Date(Math.min(...expiries)));
    }
    const previousSecretsExpireAt = (await expireSigningSecrets(trx, id, overlapSeconds)) ?? null;
    await deleteExpiredSecrets(trx, id);
    const { secret } = await insertSigningSecret(trx, id, newSecret());
    return { secret, previousSecretsExpireAt };
  });
}

/**
 * Queues a `webhook.test` ping for this subscription alone. The fan-out trigger makes its delivery
 * in the same statement; if it made none, the subscription does not exist and nothing is kept.
 */
async function sendTestPing(db: Db, id: string): Promise<TestPing> {
  return db.transaction().execute(async (trx) => {
    const notificationId = await insertTestPing(trx, id, { subscriptionId: id, message: 'ping' });
    const deliveryId = await findDeliveryId(trx, notificationId, id);
    if (deliveryId === undefined) throw new SubjectNotFoundError('subscription', id);
    return { notificationId, deliveryId };
  });
}
