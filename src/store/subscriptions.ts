import { sql, type Selectable } from 'kysely';
import { SubscriptionStatus, type SigningSecret, type Subscription, type SubscriptionFilter } from '../domain/subscription.js';
import { afterCreated, createdKeyColumn, createdPage, type CreatedKey } from './page-cursor.js';
import { pageRead } from './page-read.js';
import type { Db, SubscriptionTable } from './database.js';

export interface NewSubscription {
  readonly id: string;
  readonly url: string;
  readonly topics: readonly string[];
  readonly filter: SubscriptionFilter;
  readonly description: string | null;
  readonly maxInFlight: number;
}

/** What a PATCH may change; an absent field stays as it is. */
export interface SubscriptionChanges {
  readonly url?: string | undefined;
  readonly topics?: readonly string[] | undefined;
  /** Replaces the whole filter: `{}` clears it. */
  readonly filter?: SubscriptionFilter | undefined;
  readonly description?: string | null | undefined;
  readonly maxInFlight?: number | undefined;
  /** The dispatcher alone disables; a person pauses, resumes or re-enables. */
  readonly status?: 'active' | 'paused' | undefined;
}

const COLUMNS = [
  'id',
  'url',
  'topics',
  'program_id',
  'consortium_id',
  'description',
  'status',
  'disabled_reason',
  'failing_since',
  'max_in_flight',
  'created_at',
  'updated_at',
] as const;

type SubscriptionRow = Selectable<SubscriptionTable>;

function toSubscription(row: SubscriptionRow): Subscription {
  return {
    id: row.id,
    url: row.url,
    topics: row.topics,
    filter: {
      ...(row.program_id !== null && { programId: row.program_id }),
      ...(row.consortium_id !== null && { consortiumId: row.consortium_id }),
    },
    description: row.description,
    status: SubscriptionStatus.parse(row.status),
    disabledReason: row.disabled_reason,
    failingSince: row.failing_since,
    maxInFlight: row.max_in_flight,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertSubscription(db: Db, subscription: NewSubscription): Promise<Subscription> {
  const row = await db
    .insertInto('subscription')
    .values({
      id: subscription.id,
      url: subscription.url,
      topics: [...subscription.topics],
      program_id: subscription.filter.programId ?? null,
      consortium_id: subscription.filter.consortiumId ?? null,
      description: subscription.description,
      status: 'active',
      disabled_reason: null,
      failing_since: null,
      max_in_flight: subscription.maxInFlight,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toSubscription(row);
}

export async function findSubscription(db: Db, id: string): Promise<Subscription | undefined> {
  const row = await db.selectFrom('subscription').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  return row === undefined ? undefined : toSubscription(row);
}

/** Locks the subscription row until the transaction ends, so rotations take turns; false if none. */
export async function lockSubscription(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('subscription').select('id').where('id', '=', id).forNoKeyUpdate().executeTakeFirst();
  return row !== undefined;
}

/** A page in creation order, after the key of the last one read; `next` is set when more may follow. */
export async function listSubscriptions(
  db: Db,
  after: CreatedKey | undefined,
  limit: number,
): Promise<{ readonly items: Subscription[]; readonly next: CreatedKey | undefined }> {
  let query = db
    .selectFrom('subscription')
    .select([...COLUMNS, createdKeyColumn])
    .orderBy('created_at')
    .orderBy('id')
    .limit(pageRead(limit));
  if (after !== undefined) query = query.where(afterCreated(after));
  const { rows, next } = createdPage(await query.execute(), limit);
  return { items: rows.map(toSubscription), next };
}

/**
 * Applies the changes and stamps updated_at. A change of status starts afresh: the reason for a
 * disablement and the failure clock go, so a resumed subscription is not disabled again at once
 * for failures from before. Undefined if there is no such subscription.
 */
export async function updateSubscription(db: Db, id: string, changes: SubscriptionChanges): Promise<Subscription | undefined> {
  const { url, topics, filter, description, maxInFlight, status } = changes;
  let query = db
    .updateTable('subscription')
    .set({
      ...(url !== undefined && { url }),
      ...(topics !== undefined && { topics: [...topics] }),
      ...(filter !== undefined && { program_id: filter.programId ?? null, consortium_id: filter.consortiumId ?? null }),
      ...(description !== undefined && { description }),
      ...(maxInFlight !== undefined && { max_in_flight: maxInFlight }),
      updated_at: sql<Date>`statement_timestamp()`,
    });
  if (status !== undefined) {
    // On the right of SET, columns read the row as it was before this update.
    query = query.set((eb) => ({
      status,
      disabled_reason: eb.case().when('status', '=', status).then(eb.ref('disabled_reason')).else(null).end(),
      failing_since: eb.case().when('status', '=', status).then(eb.ref('failing_since')).else(null).end(),
    }));
  }
  const row = await query.where('id', '=', id).returning(COLUMNS).executeTakeFirst();
  return row === undefined ? undefined : toSubscription(row);
}

/** Deletes the subscription with its secrets and deliveries (by cascade); false if there was none. */
export async function deleteSubscription(db: Db, id: string): Promise<boolean> {
  const result = await db.deleteFrom('subscription').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function insertSigningSecret(db: Db, subscriptionId: string, secret: string): Promise<SigningSecret> {
  const row = await db
    .insertInto('subscription_secret')
    .values({ subscription_id: subscriptionId, secret, expires_at: null })
    .returning(['secret', 'created_at', 'expires_at'])
    .executeTakeFirstOrThrow();
  return { secret: row.secret, createdAt: row.created_at, expiresAt: row.expires_at };
}

const unexpired = sql<boolean>`(expires_at is null or expires_at > statement_timestamp())`;

/** The secrets that sign a delivery now, newest first; expiry is judged by the database's clock. */
export async function listSigningSecrets(db: Db, subscriptionId: string): Promise<SigningSecret[]> {
  const rows = await db
    .selectFrom('subscription_secret')
    .select(['secret', 'created_at', 'expires_at'])
    .where('subscription_id', '=', subscriptionId)
    .where(unexpired)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map((row) => ({ secret: row.secret, createdAt: row.created_at, expiresAt: row.expires_at }));
}

/** The `whsec_` secrets to sign a delivery with now, newest first (one signature each). */
export async function findSigningSecrets(db: Db, subscriptionId: string): Promise<string[]> {
  return (await listSigningSecrets(db, subscriptionId)).map((s) => s.secret);
}

/**
 * Makes every secret that signs now expire within `overlapSeconds`: the current one, and rotated-out
 * ones that would outlive it, so an overlap of 0 stops every old secret at once (a leaked key).
 * Returns the latest expiry set, or undefined if no secret was signing.
 */
export async function expireSigningSecrets(db: Db, subscriptionId: string, overlapSeconds: number): Promise<Date | undefined> {
  const rows = await db
    .updateTable('subscription_secret')
    // least() ignores a null, so the current secret (expires_at null) gets the new expiry.
    .set({ expires_at: sql<Date>`least(expires_at, statement_timestamp() + make_interval(secs => ${overlapSeconds}))` })
    .where('subscription_id', '=', subscriptionId)
    .where(unexpired)
    .returning('expires_at')
    .execute();
  const expiries = rows.flatMap((row) => (row.expires_at === null ? [] : [row.expires_at.getTime()]));
  return expiries.length === 0 ? undefined : new Date(Math.max(...expiries));
}

/** Forgets secrets that no longer sign anything. */
export async function deleteExpiredSecrets(db: Db, subscriptionId: string): Promise<void> {
  await db
    .deleteFrom('subscription_secret')
    .where('subscription_id', '=', subscriptionId)
    .where('expires_at', '<=', sql<Date>`statement_timestamp()`)
    .execute();
}

/** The delivery a notification made for one subscription, if the fan-out made one. */
export async function findDeliveryId(db: Db, notificationId: string, subscriptionId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('webhook_delivery')
    .select('id')
    .where('notification_id', '=', notificationId)
    .where('subscription_id', '=', subscriptionId)
    .executeTakeFirst();
  return row?.id;
}
