import { z } from 'zod';

/**
 * `active` is delivered to; `paused` queues deliveries without sending them (the operator's
 * choice); `disabled` is set by the dispatcher after failing for long, and its deliveries fail.
 */
export const SubscriptionStatus = z.enum(['active', 'paused', 'disabled']);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatus>;

/** Which notifications reach a subscription besides its topics; an absent field matches all. */
export interface SubscriptionFilter {
  readonly programId?: string;
  readonly consortiumId?: string;
}

/** A webhook endpoint (SPEC §6). Its signing secrets are kept apart and never part of it. */
export interface Subscription {
  readonly id: string;
  readonly url: string;
  readonly topics: readonly string[];
  readonly filter: SubscriptionFilter;
  readonly description: string | null;
  readonly status: SubscriptionStatus;
  readonly disabledReason: string | null;
  readonly failingSince: Date | null;
  readonly maxInFlight: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A secret that signs deliveries: the current one (no expiry) or one rotated out, until it expires. */
/**
 * Secrets that may sign at once: the current one and two rotated out but still overlapping. Every
 * delivery carries one signature per live secret, and a receiver's header limit is not ours to spend.
 */
export const MAX_LIVE_SIGNING_SECRETS = 3;

export interface SigningSecret {
  readonly secret: string;
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
}
