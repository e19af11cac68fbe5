import type { ReferenceKind } from './event-references.js';
import { cutQuote, shownText } from './quoted.js';

/**
 * Errors the domain and its stores raise for a client's mistake, or for a database the service
 * cannot reach. They carry context and a stable code, never an HTTP status: the HTTP layer maps
 * codes to responses in one place.
 * `eventIndex` locates the offending event within a batch (0 for a single event).
 */
export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
}

export type DomainErrorCode =
  | 'version_conflict'
  | 'unknown_reference'
  | 'already_defined'
  | 'retraction_refused'
  | 'idempotency_key_reused'
  | 'event_not_found'
  | 'invalid_cursor'
  | 'subject_not_found'
  | 'unauthenticated'
  | 'forbidden'
  | 'rate_limited'
  | 'webhook_target_refused'
  | 'delivery_in_flight'
  | 'too_many_feeds'
  | 'database_unavailable'
  | 'commit_outcome_unknown'
  | 'statement_timeout'
  | 'transaction_conflict'
  | 'database_full'
  | 'feed_capacity_reached'
  | 'too_many_secrets';

export class VersionConflictError extends DomainError {
  readonly code = 'version_conflict';
  constructor(
    readonly eventIndex: number,
    readonly stream: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    // currentVersion is the stream's version just before this event, counting the events of its
    // batch before it on the same stream: the value a writer would send as expectedVersion.
    super(`stream ${stream} is at version ${currentVersion} before this event, not the expected ${expectedVersion}`);
  }
}

export type UnknownReferenceReason = 'unknown' | 'consortium_required' | 'not_enrolled' | 'not_participant';

export class UnknownReferenceError extends DomainError {
  readonly code = 'unknown_reference';
  constructor(
    readonly eventIndex: number,
    readonly kind: ReferenceKind,
    readonly key: string,
    readonly reason: UnknownReferenceReason,
    /** Where the event's data names it, as a JSON pointer below the data (ReferenceRequirement.field), when known. */
    readonly field: string | undefined,
    /** The closest existing ids, for a near miss ("did you mean …?"). */
    readonly suggestions: readonly string[] = [],
  ) {
    super(describeReference(kind, key, reason) + (suggestions.length === 0 ? '' : `; did you mean ${suggestions.map((id) => `'${id}'`).join(' or ')}?`));
  }
}

function describeReference(kind: ReferenceKind, key: string, reason: UnknownReferenceReason): string {
  switch (reason) {
    case 'unknown': {
      const [consortium, program] = key.split('@');
      return kind === 'enrolment'
        ? `consortium '${consortium}' is not enrolled in program '${program}': enrol it first (consortium.enrolled)`
        : `unknown ${describeKey(kind, key)}`;
    }
    case 'consortium_required':
      return `${describeKey(kind, key)} is consortium-scoped: name the consortium (consortiumId)`;
    case 'not_enrolled':
      return `${describeKey(kind, key)} is consortium-scoped and the consortium is not enrolled in that program`;
    case 'not_participant':
      return `${describeKey(kind, key)} concerns only the consortiums its plan names, and not this one`;
  }
}

/** Reference keys read back as words: 'p/m' is milestone m of program p, 'c@p' is c's enrolment in p. */
function describeKey(kind: ReferenceKind, key: string): string {
  const [left, right] = key.split(kind === 'milestone' ? '/' : '@');
  switch (kind) {
    case 'milestone':
      return `milestone '${right}' of program '${left}'`;
    case 'enrolment':
      return `enrolment of consortium '${left}' in program '${right}'`;
    case 'participant':
      return `participation of consortium '${left}' in milestone '${right}'`;
    default:
      return `${kind} '${key}'`;
  }
}

export class AlreadyDefinedError extends DomainError {
  readonly code = 'already_defined';
  constructor(
    readonly eventIndex: number,
    readonly kind: ReferenceKind,
    readonly key: string,
  ) {
    super(`${describeKey(kind, key)} is already defined`);
  }
}

export type RetractionRefusal = 'unknown_event' | 'already_retracted' | 'not_retractable';

export class RetractionRefusedError extends DomainError {
  readonly code = 'retraction_refused';
  constructor(
    readonly eventIndex: number,
    readonly eventId: string,
    readonly reason: RetractionRefusal,
    readonly targetType?: string,
  ) {
    super(
      reason === 'unknown_event'
        ? `no event ${eventId} to retract`
        : reason === 'already_retracted'
          ? `event ${eventId} is already retracted`
          : targetType === 'event.retracted'
            ? 'a retraction cannot itself be retracted: record the event again instead'
            : `${targetType ?? 'a reference'} defines what exists and cannot be retracted; record milestone.cancelled or a new fact instead`,
    );
  }
}

export class IdempotencyKeyReusedError extends DomainError {
  readonly code = 'idempotency_key_reused';
  constructor(readonly key: string) {
    super(`Idempotency-Key '${shownText(key)}' was already used with a different request body`);
  }
}

export class EventNotFoundError extends DomainError {
  readonly code = 'event_not_found';
  constructor(readonly eventId: string) {
    super(`no event ${eventId}`);
  }
}

export class InvalidCursorError extends DomainError {
  readonly code = 'invalid_cursor';
  constructor(
    readonly cursor: string,
    /** Where the request gave it: the `after` parameter, or the feed's Last-Event-ID header. */
    readonly parameter: 'after' | 'last-event-id' = 'after',
    /** Why it is refused, when it has a cursor's form: how the client goes on. */
    readonly reason: string = 'is not a cursor this service issued',
  ) {
    // Echoed in part: a forged cursor may be as long as a URL.
    super(`${cutQuote(cursor, (shown) => `'${shownText(shown)}'`)} ${reason}`);
  }
}

/** A program, consortium or milestone that does not exist (at the cut-off asked for). */
export class SubjectNotFoundError extends DomainError {
  readonly code = 'subject_not_found';
  constructor(
    readonly kind: 'program' | 'consortium' | 'milestone' | 'api key' | 'subscription' | 'delivery' | 'problem type' | 'cell',
    readonly id: string,
    /** How to name what exists instead, when the request came close. */
    hint?: string,
    /** The closest ids that exist, for a near miss ("did you mean …?"). */
    readonly suggestions: readonly string[] = [],
  ) {
    super(
      `no ${kind} '${id}'${hint === undefined ? '' : `: ${hint}`}` +
        (suggestions.length === 0 ? '' : `; did you mean ${suggestions.map((near) => `'${near}'`).join(' or ')}?`),
    );
  }
}

export type UnauthenticatedReason = 'missing' | 'malformed' | 'ambiguous' | 'unknown' | 'revoked';

/** The request carries no usable API key. */
export class UnauthenticatedError extends DomainError {
  readonly code = 'unauthenticated';
  constructor(readonly reason: UnauthenticatedReason) {
    super(
      reason === 'missing'
        ? 'this request needs an Authorization: Bearer <api key> header'
        : reason === 'malformed'
          ? 'the Authorization header must be "Bearer <api key>" with a key this service issued'
          : reason === 'ambiguous'
            ? 'the request carries more than one Authorization header: send exactly one'
            : reason === 'revoked'
              ? 'this API key has been revoked'
              : 'this API key is not known',
    );
  }
}

/** The key is good, but its role does not allow this request. */
export class ForbiddenError extends DomainError {
  readonly code = 'forbidden';
  constructor(
    readonly role: string,
    readonly requiredRole: string,
  ) {
    super(`a ${role} key cannot do this; it needs the ${requiredRole} role`);
  }
}

export class RateLimitedError extends DomainError {
  readonly code = 'rate_limited';
  constructor(
    readonly limitPerMinute: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`more than ${limitPerMinute} requests a minute with this key; retry in ${retryAfterSeconds} s`);
  }
}

/** A webhook URL the service will not call (SPEC §6: private, loopback, link-local targets). */
export class WebhookTargetRefusedError extends DomainError {
  readonly code = 'webhook_target_refused';
  constructor(
    readonly url: string,
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
  }
}

/** A delivery cannot be requeued while an attempt of it is under way. */
export class DeliveryInFlightError extends DomainError {
  readonly code = 'delivery_in_flight';
  constructor(readonly deliveryId: string) {
    super(`delivery ${deliveryId} is being attempted right now; ask again once the attempt is recorded`);
  }
}

/** A key already has as many live feeds open on this instance as it may. */
export class TooManyFeedsError extends DomainError {
  readonly code = 'too_many_feeds';
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`this API key already has ${limit} live feeds open here; close one first, or retry in ${retryAfterSeconds} s`);
  }
}

/**
 * The database cannot be reached or dropped the connection (terminated, restarted, failed over), or
 * a prepared statement in a transaction went stale under a migration. `querySent` tells whether the
 * failed statement may have taken effect: if not, it certainly did nothing.
 */
export class DatabaseUnavailableError extends DomainError {
  readonly code = 'database_unavailable';
  constructor(
    readonly querySent: boolean,
    options: { cause: unknown },
    /**
     * This instance had no connection free in time: every one of its pool in use or still being
     * made (pg-pool counts both), or its appends' calls all running. Said as such, not as a database
     * out of reach (found by the probe of access under load, where a locked table held the pool);
     * connections still being made may mean the database is out of reach after all (the review),
     * which the detail says too.
     */
    readonly busy = false,
  ) {
    super(
      busy
        ? "none of this instance's connections to the database came free in time: all were in use, or still being made (as when the database does not answer); retry in a moment, or on another instance"
        : 'the database cannot be reached right now; retry in a moment',
      options,
    );
  }
}

/**
 * The connection died while an append was under way: it may have committed or not. Retrying with
 * the same Idempotency-Key is safe (the first outcome is replayed, or the events are stored once).
 * Without one, the ids the events were given tell: an append is all or nothing, so reading the first
 * says whether all were stored (the service draws the ids, so only it can name them). Not with a
 * key: a retry may replay a first request, whose events have other ids. The server may still be
 * running the append when the connection is found lost (a network that failed, not a server that
 * closed it): a 404 is final only once the statement timeout has passed, which `settledAfterSeconds`
 * says, so that a client waits that long before it checks (Retry-After) rather than a second.
 */
export class CommitOutcomeUnknownError extends DomainError {
  readonly code = 'commit_outcome_unknown';
  readonly eventIds: readonly string[];
  readonly settledAfterSeconds: number | undefined;
  constructor(
    readonly idempotencyKey: string | undefined,
    options: { cause: unknown },
    named: { readonly eventIds: readonly string[]; readonly settledAfterSeconds: number | undefined } = { eventIds: [], settledAfterSeconds: undefined },
  ) {
    const first = idempotencyKey === undefined ? named.eventIds[0] : undefined;
    const seconds = named.settledAfterSeconds;
    const settled =
      seconds === undefined ? "the service's statement timeout has" : `${seconds} second${seconds === 1 ? '' : 's'} (the service's statement timeout) ${seconds === 1 ? 'has' : 'have'}`;
    const check =
      first === undefined
        ? 'Check before sending them again'
        : `Check with GET /v1/events/${first} before sending them again: 200 means all of them are stored; 404 means none is, ` +
          `but only once ${settled} passed since this answer, as the database may still be running the append until then`;
    super(
      idempotencyKey === undefined
        ? `the database connection was lost while the events were being stored: they may or may not be stored. ${check}; ` +
            'or send requests with an Idempotency-Key, which makes a retry safe'
        : 'the database connection was lost while the events were being stored: they may or may not be stored. ' +
            'Retrying with the same Idempotency-Key is safe: it stores them once or replays the first outcome',
      options,
    );
    this.eventIds = first === undefined ? [] : named.eventIds;
    this.settledAfterSeconds = first === undefined ? undefined : named.settledAfterSeconds;
  }

  /**
   * The same failure, naming the ids the request's events were given and how long the append may
   * still run on the server (its statement timeout, when the caller knows it); both kept only
   * without an Idempotency-Key.
   */
  forEvents(eventIds: readonly string[], statementTimeoutMs: number | undefined): CommitOutcomeUnknownError {
    const settledAfterSeconds = statementTimeoutMs === undefined ? undefined : Math.max(1, Math.ceil(statementTimeoutMs / 1000));
    return new CommitOutcomeUnknownError(this.idempotencyKey, { cause: this.cause }, { eventIds, settledAfterSeconds });
  }
}

/** The database cancelled a statement that ran longer than the statement timeout; it did nothing. */
export class StatementTimeoutError extends DomainError {
  readonly code = 'statement_timeout';
  constructor(options: { cause: unknown }) {
    super('the database took too long to answer and the statement was cancelled; nothing was changed, retry in a moment', options);
  }
}

/**
 * The database ended the request's transaction to break a conflict with another one running at the
 * same moment (a deadlock, a serialization failure): it changed nothing, and the same request sent
 * again will most likely go through.
 */
export class TransactionConflictError extends DomainError {
  readonly code = 'transaction_conflict';
  constructor(options: { cause: unknown }) {
    super('the database stopped this request to resolve a conflict with another one running at the same moment; nothing was changed, retry in a moment', options);
  }
}

/**
 * The database has no room left on its disk for what the request writes (SQLSTATE 53100): the
 * statement failed whole, so nothing was stored, and only an operator freeing space mends it.
 */
export class DatabaseFullError extends DomainError {
  readonly code = 'database_full';
  constructor(options: { cause: unknown }) {
    super('the database has no room left on its disk to store this; nothing was stored; retry once its operator has freed space', options);
  }
}

/** Every concrete domain error: switching on `code` narrows to the class and its fields. */
export type KnownDomainError =
  | VersionConflictError
  | UnknownReferenceError
  | AlreadyDefinedError
  | RetractionRefusedError
  | IdempotencyKeyReusedError
  | EventNotFoundError
  | InvalidCursorError
  | SubjectNotFoundError
  | UnauthenticatedError
  | ForbiddenError
  | RateLimitedError
  | WebhookTargetRefusedError
  | DeliveryInFlightError
  | TooManyFeedsError
  | DatabaseUnavailableError
  | CommitOutcomeUnknownError
  | StatementTimeoutError
  | TransactionConflictError
  | DatabaseFullError
  | FeedCapacityReachedError
  | TooManySecretsError;

export function isDomainError(error: unknown): error is KnownDomainError {
  return error instanceof DomainError;
}

/** This instance already holds as many live feeds, of all keys together, as it may. */
export class FeedCapacityReachedError extends DomainError {
  readonly code = 'feed_capacity_reached';
  constructor(
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(`this instance already holds ${limit} live feeds; retry in ${retryAfterSeconds} s (another instance may have room)`);
  }
}

/**
 * A rotation that keeps the previous secrets signing would leave more live secrets than a
 * subscription may have: every delivery carries one signature per live secret.
 */
export class TooManySecretsError extends DomainError {
  readonly code = 'too_many_secrets';
  constructor(
    readonly limit: number,
    readonly nextExpiry: Date | undefined,
  ) {
    super(
      `the subscription already has ${limit} live signing secrets; rotate with overlapSeconds 0 to retire the old ones now` +
        (nextExpiry === undefined ? '' : `, or wait until ${nextExpiry.toISOString()}, when the oldest stops signing`),
    );
  }
}
