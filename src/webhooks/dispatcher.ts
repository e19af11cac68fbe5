import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseUnavailableError, StatementTimeoutError, TransactionConflictError } from '../domain/errors.js';
import { createFailureTally } from '../failure-tally.js';
import { messageIdOf, toNotificationMessage } from '../domain/notification-message.js';
import type { ResolveHost, TargetRules } from '../services/webhook-target-check.js';
import type { Db } from '../store/database.js';
import { findNotifications } from '../store/notifications.js';
import { findSigningSecrets } from '../store/subscriptions.js';
import { claimDeliveries, deliveryExists, finishAttempt, reapExpiredLeases, type AttemptResult, type ClaimedDelivery } from '../store/webhook-deliveries.js';
import { retryDelaySeconds, type RetryPolicy } from './retry-schedule.js';
import { sendWebhook, type SendOutcome } from './send-webhook.js';
import { signedHeaders } from './signed-headers.js';

export interface DispatcherLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface DispatcherOptions {
  readonly db: Db;
  /** Names this instance in the attempt log. */
  readonly instance: string;
  readonly rules: TargetRules;
  readonly resolve: ResolveHost;
  readonly retry: RetryPolicy;
  /** Deliveries this instance attempts at once, across all subscriptions. */
  readonly concurrency: number;
  readonly leaseSeconds: number;
  readonly connectTimeoutMs: number;
  readonly totalTimeoutMs: number;
  /** Polling interval: the fallback when no NOTIFY arrives (and the clock for retries). */
  readonly pollMs: number;
  readonly disableAfterSeconds: number;
  readonly logger: DispatcherLogger;
  /** Claims, or reads of their messages, failing poll after poll (the database away) are told at most this often: 60 s unless a test says less. */
  readonly claimFailureLogMs?: number;
  /** LISTEN for the fan-out's NOTIFY, so new work starts within moments of its commit. */
  readonly listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
  readonly random?: () => number;
  /** Observes each finished attempt (metrics). */
  readonly onAttempt?: (outcome: SendOutcome, result: AttemptResult) => void;
  /** Observes the deliveries this instance put back in the queue when their holder's lease ran out (metrics). */
  readonly onLeasesExpired?: (deliveries: number) => void;
}

export interface Dispatcher {
  start(): Promise<void>;
  /** Stops claiming, lets attempts in flight finish (aborting them after `graceMs`), releases their leases. */
  stop(graceMs?: number): Promise<void>;
  /** One claim round; resolves once the attempts it started are recorded. For tests and benchmarks. */
  runOnce(): Promise<number>;
}

export const WAKE_CHANNEL = 'ml_webhook_due';

/** What an attempt sends: serialized once per round, signed afresh at each attempt. */
interface PreparedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly secrets: readonly string[];
}

/** How soon a delivery whose message could not be read is tried again. */
const UNSENT_RETRY_SECONDS = 5;

/** How long an outcome that could not be recorded waits before it is tried again, doubling up to the most. */
const RECORD_RETRY_FIRST_MS = 250;
const RECORD_RETRY_MOST_MS = 4000;

/** Failures of a statement that changed nothing and may pass: the database away, overloaded, or in a conflict. */
const mayPass = (error: unknown): boolean =>
  error instanceof DatabaseUnavailableError || error instanceof StatementTimeoutError || error instanceof TransactionConflictError;

/**
 * The delivery loop of one instance: claim due deliveries (short statement, leases), send each
 * outside any transaction, record the outcome fenced on the lease. Several instances share one
 * database; the claim keeps them off each other's work.
 */

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { db, logger } = options;
  // The configuration makes it so (src/config.ts); a lease shorter than an attempt would send every delivery twice, or, with the check in claimRound, never.
  if (options.leaseSeconds * 1000 <= options.totalTimeoutMs) {
    throw new Error(`a lease (${options.leaseSeconds} s) must outlast an attempt (${options.totalTimeoutMs} ms)`);
  }
  const active = new Set<Promise<void>>();
  const abort = new AbortController();
  // Every attempt in flight listens for the abort of a shutdown.
  setMaxListeners(options.concurrency + 10, abort.signal);
  let stopping = false;
  /** The claim rounds under way, if any: stop() waits for them, as their deliveries are not yet in `active`. */
  let ticking: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  // A poll a second, each failing while the database is away, logged an error each (src/failure-tally.ts).
  const claimFailures = createFailureTally({
    intervalMs: options.claimFailureLogMs ?? 60_000,
    tellFailures: (failedPolls, err) => logger.error({ err, failedPolls }, 'webhook claim failed; retrying at every poll'),
    tellRecovered: (failedPolls, failingMs) =>
      logger.info({ failedPolls, failingMs: Math.round(failingMs) }, 'webhook claims go through again'),
  });
  // Reads of the claimed deliveries' messages that fail while claims go through: told as failed
  // claims are, with the deliveries put back meanwhile (until 2026-12-07, an error a round for as
  // long as the reads failed). A round with nothing to read counts as one without a failure, as a
  // poll that claims nothing does for claims: else, on a quiet system, the run would end only with
  // the next delivery, hours later, and two outages would be told as one.
  let deliveriesPutBack = 0;
  const readFailures = createFailureTally({
    intervalMs: options.claimFailureLogMs ?? 60_000,
    tellFailures: (failedReads, err) => {
      logger.error({ err, failedReads, deliveriesPutBack }, 'webhook messages could not be read; the claimed deliveries go back to the queue');
      deliveriesPutBack = 0;
    },
    tellRecovered: (failedReads, failingMs) => logger.info({ failedReads, failingMs: Math.round(failingMs) }, 'webhook messages are read again'),
  });
  let unlisten: (() => Promise<void>) | undefined;
  let lastReap = 0;
  const reapEveryMs = Math.max(1000, (options.leaseSeconds * 1000) / 4);

  async function attempt(delivery: ClaimedDelivery, prepared: PreparedMessage | undefined, leaseEndsBy: number): Promise<void> {
    const startedAt = new Date();
    const outcome: SendOutcome =
      prepared === undefined
        ? failure('the notification or the subscription secret is missing')
        : await sendWebhook({
            url: delivery.url,
            headers: signedHeaders(prepared.messageId, prepared.body, prepared.secrets, new Date()),
            body: prepared.body,
            rules: options.rules,
            resolve: options.resolve,
            connectTimeoutMs: options.connectTimeoutMs,
            totalTimeoutMs: options.totalTimeoutMs,
            signal: abort.signal,
          });
    const result = resultOf(outcome, delivery);
    const recorded = await recordWhileLeased(delivery.id, leaseEndsBy, () => record(delivery, startedAt, outcome, result, outcome.errorKind !== 'aborted'));
    if (!recorded) await sayNotRecorded(delivery.id);
    options.onAttempt?.(outcome, result);
  }

  /**
   * Records an outcome, again and again while the database cannot be reached and the lease lasts:
   * given up at once, the lease ran out and another attempt sent the delivery a second time, though
   * the endpoint had taken it (found by the probe of webhooks under outages: 49 in 22,340). The
   * record is fenced on the lease, so one that committed before its connection dropped makes the
   * next try find the lease gone, and nothing is written twice. While stopping, until the grace
   * stop() gives ends (the abort): the delivery is then left to its lease, as before.
   */
  async function recordWhileLeased(deliveryId: string, leaseEndsBy: number, once: () => Promise<boolean>): Promise<boolean> {
    for (let wait = RECORD_RETRY_FIRST_MS; ; wait = Math.min(wait * 2, RECORD_RETRY_MOST_MS)) {
      try {
        return await once();
      } catch (error) {
        if (!mayPass(error) || abort.signal.aborted || Date.now() + wait >= leaseEndsBy) throw error;
        logger.warn({ err: error, deliveryId }, `webhook outcome not recorded: the database cannot take it now; trying again in ${wait} ms`);
        // Cut short by the abort at the end of stop()'s grace; the rejection ends the attempt.
        await sleep(wait, undefined, { signal: abort.signal });
      }
    }
  }

  /** Logs an attempt and settles its delivery, fenced on the lease; `counts`: whether it uses up a retry. */
  function record(delivery: ClaimedDelivery, startedAt: Date, outcome: SendOutcome, result: AttemptResult, counts: boolean): Promise<boolean> {
    return finishAttempt(db, {
      deliveryId: delivery.id,
      leaseId: delivery.leaseId,
      attempt: {
        trigger: delivery.trigger,
        instance: options.instance,
        startedAt,
        durationMs: outcome.durationMs,
        responseStatus: outcome.status,
        errorKind: outcome.errorKind,
        errorDetail: outcome.errorDetail,
        responseBody: outcome.responseBody,
      },
      result,
      gone: outcome.status === 410,
      counts,
      disableAfterSeconds: options.disableAfterSeconds,
    });
  }

  /**
   * Why an outcome found nothing to record: its delivery gone with its subscription, deleted during
   * the attempt, which is no fault (until 2026-12-06 that too was said as a lease lost, a warning;
   * found by the probe of webhook leases), or its lease lost.
   */
  async function sayNotRecorded(deliveryId: string): Promise<void> {
    const exists = await deliveryExists(db, deliveryId).catch((err: unknown) => {
      logger.warn({ err, deliveryId }, 'webhook outcome not recorded, and whether its delivery still exists could not be read');
      return undefined;
    });
    if (exists === false) logger.info({ deliveryId }, 'webhook outcome not recorded: its subscription was deleted during the attempt');
    if (exists === true) logger.warn({ deliveryId }, 'webhook lease lost before the outcome was recorded');
  }

  function resultOf(outcome: SendOutcome, delivery: ClaimedDelivery): AttemptResult {
    if (outcome.ok) return { kind: 'succeeded' };
    // Stopping: the attempt was cut short by us, not by the endpoint; try again at once elsewhere.
    if (outcome.errorKind === 'aborted') return { kind: 'retry', delaySeconds: 0 };
    if (outcome.status === 410) return { kind: 'failed' };
    const delaySeconds = retryDelaySeconds(options.retry, delivery.scheduledAttemptNo, outcome.retryAfterSeconds, options.random);
    return delaySeconds === undefined ? { kind: 'failed' } : { kind: 'retry', delaySeconds };
  }

  function track(delivery: ClaimedDelivery, prepared: PreparedMessage | undefined, leaseEndsBy: number): Promise<void> {
    const running = attempt(delivery, prepared, leaseEndsBy)
      .catch((err: unknown) => logger.error({ err, deliveryId: delivery.id }, 'webhook attempt failed to complete; its lease will expire'))
      .finally(() => {
        active.delete(running);
        // Claim once half the slots are free, not once per finished attempt: fewer, larger rounds.
        if (active.size <= Math.floor(options.concurrency / 2)) wake();
      });
    active.add(running);
    return running;
  }

  /**
   * Puts back the deliveries whose holder's lease ran out, and says so: until 2026-12-06 only the
   * attempt log did, and an instance's crash left no trace in the logs or metrics of the others
   * (found by the probe of webhook leases).
   */
  async function reapLeases(): Promise<void> {
    const holders = await reapExpiredLeases(db, options.instance);
    if (holders.length === 0) return;
    logger.warn(
      { deliveries: holders.length, heldBy: [...new Set(holders)] },
      'webhook deliveries put back in the queue: the instance holding them stopped or hung before recording their outcome, and their lease ran out',
    );
    options.onLeasesExpired?.(holders.length);
  }

  async function claimRound(): Promise<Promise<void>[]> {
    // Leases run for many seconds: looking for expired ones on every round would be wasted work.
    if (Date.now() - lastReap >= reapEveryMs) {
      lastReap = Date.now();
      await reapLeases();
    }
    // Before the claim: the lease, counted from the database's clock during it, ends no earlier than this plus its length.
    const claimedBy = Date.now();
    const leaseEndsBy = claimedBy + options.leaseSeconds * 1000;
    const claimed = await claimDeliveries(db, options.instance, options.concurrency - active.size, options.leaseSeconds);
    if (claimed.length === 0) {
      readFailures.succeeded();
      return [];
    }
    const prepared = await prepareMessages(claimed).catch(async (err: unknown) => {
      deliveriesPutBack += claimed.length;
      readFailures.failed(err);
      await putBackUnsent(claimed, `the message could not be read (${err instanceof Error ? err.message : String(err)})`, leaseEndsBy);
      return undefined;
    });
    if (prepared === undefined) return [];
    // Reading the messages took so long (a slow database) that a lease could run out while its
    // attempt waits for the endpoint: another instance would then claim and send it too.
    if (Date.now() + options.totalTimeoutMs > leaseEndsBy) {
      const reason = `reading the message took ${Date.now() - claimedBy} ms of the ${options.leaseSeconds} s lease, too long to send it within the lease`;
      logger.warn({ deliveries: claimed.length }, `${reason}; the claimed deliveries go back to the queue`);
      await putBackUnsent(claimed, reason, leaseEndsBy);
      return [];
    }
    readFailures.succeeded();
    return claimed.map((delivery) => track(delivery, prepared.get(delivery.id), leaseEndsBy));
  }

  /**
   * Claimed deliveries whose messages could not be read (the database failed between the claim and
   * the read), or not soon enough to be sent within their lease: back in the queue shortly, no
   * retry used up, as an aborted attempt's. Left in flight, each would wait for its lease to run
   * out, and then count as an attempt, its subscription's places taken by it meanwhile. Put back
   * again and again while the database cannot take it and the lease lasts, as an outcome is: tried
   * once, a put-back that met the outage which failed the read was lost, and with it a minute of
   * four subscriptions' deliveries (the probe of the day's fixes: 16 deliveries held for 60 s after
   * ten seconds of terminated connections). If the lease runs out first, the reaper puts them back.
   */
  async function putBackUnsent(claimed: readonly ClaimedDelivery[], reason: string, leaseEndsBy: number): Promise<void> {
    const outcome = failure(`not sent: ${reason}`);
    await Promise.all(
      claimed.map((delivery) =>
        recordWhileLeased(delivery.id, leaseEndsBy, () => record(delivery, new Date(), outcome, { kind: 'retry', delaySeconds: UNSENT_RETRY_SECONDS }, false)).catch(() => false),
      ),
    );
  }

  /** The bodies and secrets of a round's deliveries, read together rather than one by one. */
  async function prepareMessages(claimed: readonly ClaimedDelivery[]): Promise<Map<string, PreparedMessage>> {
    const notifications = await findNotifications(db, [...new Set(claimed.map((d) => d.notificationId))]);
    const subscriptionIds = [...new Set(claimed.map((d) => d.subscriptionId))];
    const secrets = new Map(await Promise.all(subscriptionIds.map(async (id) => [id, await findSigningSecrets(db, id)] as const)));
    // One message that cannot be built fails its own deliveries (as missing), not the round's.
    const bodies = new Map(
      [...notifications.values()].flatMap((n) => {
        try {
          return [[n.id, JSON.stringify(toNotificationMessage(n))] as const];
        } catch (err) {
          logger.error({ err, notificationId: n.id }, 'webhook message could not be built');
          return [];
        }
      }),
    );
    const prepared = new Map<string, PreparedMessage>();
    for (const delivery of claimed) {
      const body = bodies.get(delivery.notificationId);
      const signing = secrets.get(delivery.subscriptionId) ?? [];
      if (body !== undefined && signing.length > 0) {
        prepared.set(delivery.id, { messageId: messageIdOf(delivery.notificationId), body, secrets: signing });
      }
    }
    return prepared;
  }

  /** Claims until the slots are full or nothing is due; never two rounds at once. */
  function tick(): Promise<void> {
    if (ticking !== undefined) {
      again = true;
      return ticking;
    }
    ticking = claimUntilFull().finally(() => {
      ticking = undefined;
    });
    return ticking;
  }

  async function claimUntilFull(): Promise<void> {
    try {
      do {
        again = false;
        if (stopping) return;
        const started = await claimRound();
        claimFailures.succeeded();
        if (started.length > 0 && active.size < options.concurrency) again = true;
      } while (again);
    } catch (err) {
      claimFailures.failed(err);
    }
  }

  function wake(): void {
    if (!stopping) void tick();
  }

  return {
    async start() {
      if (options.listen !== undefined) {
        unlisten = await options.listen(WAKE_CHANNEL, wake).catch((err: unknown) => {
          logger.warn({ err }, 'LISTEN failed; webhook delivery falls back to polling');
          return undefined;
        });
      }
      timer = setInterval(wake, options.pollMs);
      timer.unref();
      wake();
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      if (timer !== undefined) clearInterval(timer);
      await unlisten?.().catch(() => {});
      await ticking;
      claimFailures.close();
      readFailures.close();
      const graceful = Promise.all(active).then(() => true);
      const deadline = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
      if (!(await Promise.race([graceful, deadline]))) {
        abort.abort();
        await Promise.all(active);
      }
    },
    async runOnce() {
      const started = await claimRound();
      await Promise.all(started);
      return started.length;
    },
  };
}

function failure(detail: string): SendOutcome {
  return { ok: false, status: null, errorKind: 'internal', errorDetail: detail, durationMs: 0, responseBody: '', retryAfterSeconds: null };
}
