import { infoOf, isEventType } from '../domain/event-catalogue.js';
import {
  AlreadyDefinedError,
  CommitOutcomeUnknownError,
  DatabaseUnavailableError,
  RetractionRefusedError,
  StatementTimeoutError,
  UnknownReferenceError,
  VersionConflictError,
} from '../domain/errors.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import type { AppendItem, AppendRequest } from './event-store.js';

/*
 * Smart batching of appends (research/bitemporal-and-scale.md: Axon's micro-batching). Most of an
 * append's cost in PostgreSQL is per call: planning its statements, the locks, the statement
 * triggers, the commit. So an instance runs `concurrency` append calls at once, and the appends that
 * come while they run wait and go together, as one call and one transaction, when one ends. Without
 * load nothing waits.
 *
 * Only appends of facts (the catalogue's kind) are combined, and never two that name the same
 * milestone of a program: a cell's status changes once per call (apply_to_cell.sql), and each append
 * must still notify its own changes (milestone.status_changed, SPEC §6); a fact changes only the
 * cell it names. Reference events and retractions (which touch cells the request does not name:
 * an elimination, every cell of its consortium), appends with an Idempotency-Key (checked per call)
 * and large appends go alone, at once. Combined appends are concurrent requests, so their arrival
 * order is an order a client could have seen; they share one recorded moment, as the events of one
 * batch do.
 *
 * A combined call stores all or nothing. Refused for one append's content (a version, a reference),
 * it is run again without that append, which runs alone and gets its own answer: the appends before
 * it together, then it, then those after it together. A lost connection (the outcome unknown), a
 * database that cannot be reached or a statement timeout (a lock waited on, an overloaded server:
 * each append alone would likely wait as long) is every combined append's answer. Any other
 * failure runs each append again alone, so that it is the answer of the append that causes it.
 *
 * A call that stalls (a cell locked by another instance's long fold) must not hold every append of
 * the instance: once the oldest waiting append has waited `overflowAfterMs`, another call starts,
 * up to `maxCalls` (fewer than the pool's connections, so that reads still find one). Under heavy
 * load, when calls take longer than that, this adds calls too. An append that waits `maxWaitMs`
 * without a call is answered 503, nothing stored, as one waiting that long for a connection would be.
 */

export type Append = (items: readonly AppendItem[], request: AppendRequest) => Promise<RecordedEvent[]>;

export interface AppendCombinerOptions {
  /** Calls run at once before appends wait to be combined. */
  readonly concurrency: number;
  /** Calls run at once when the oldest waiting append has waited overflowAfterMs (the pool's size). */
  readonly maxCalls: number;
  readonly overflowAfterMs: number;
  /** An append that waits longer is refused (503): nothing stored. */
  readonly maxWaitMs: number;
  /** Appends beyond this many waiting are refused at once (503). */
  readonly maxWaiting: number;
  /** At most this many events in a combined call; a larger append goes alone. */
  readonly maxEvents: number;
}

/** What the combiner holds now: appends waiting for a call, and its calls running (each of one or more appends). */
export interface AppendLoad {
  readonly waiting: number;
  readonly running: number;
}

export interface AppendCombiner {
  append(items: readonly AppendItem[], request: AppendRequest): Promise<RecordedEvent[]>;
  load(): AppendLoad;
}

interface Waiting {
  readonly items: readonly AppendItem[];
  readonly request: AppendRequest;
  /** The milestones (program/milestone) its facts name: the cells it may change. */
  readonly milestones: readonly string[];
  readonly since: number;
  readonly expiry: NodeJS.Timeout;
  resolve(events: RecordedEvent[]): void;
  reject(error: unknown): void;
}

/** The store's refusals of one append's content, with the index of the event refused. */
const refusedIndex = (error: unknown): number | undefined =>
  error instanceof VersionConflictError ||
  error instanceof UnknownReferenceError ||
  error instanceof AlreadyDefinedError ||
  error instanceof RetractionRefusedError
    ? error.eventIndex
    : undefined;

/** Failures that are every combined append's: nothing to learn from running them again alone. */
const isEveryones = (error: unknown) =>
  error instanceof CommitOutcomeUnknownError || error instanceof DatabaseUnavailableError || error instanceof StatementTimeoutError;

const combinable = (items: readonly AppendItem[], request: AppendRequest, maxEvents: number) =>
  request.idempotencyKey === undefined &&
  items.length <= maxEvents &&
  items.every((item) => isEventType(item.type) && infoOf(item.type).kind === 'fact');

const milestonesOf = (items: readonly AppendItem[]) =>
  items.flatMap(({ subject }) => (subject.programId === undefined || subject.milestone === undefined ? [] : [`${subject.programId}/${subject.milestone}`]));

const unavailable = (reason: string) => new DatabaseUnavailableError(false, { cause: new Error(reason) }, true);

export function createAppendCombiner(append: Append, options: AppendCombinerOptions): AppendCombiner {
  const queue: Waiting[] = [];
  let running = 0;
  let overflow: NodeJS.Timeout | undefined;

  /** The next call: waiting appends in arrival order while their events fit and their milestones differ. */
  function takeGroup(): Waiting[] {
    const group: Waiting[] = [];
    const named = new Set<string>();
    let events = 0;
    for (const next of queue) {
      if (group.length > 0 && (events + next.items.length > options.maxEvents || next.milestones.some((m) => named.has(m)))) break;
      group.push(next);
      events += next.items.length;
      for (const m of next.milestones) named.add(m);
    }
    queue.splice(0, group.length);
    for (const waiting of group) clearTimeout(waiting.expiry);
    if (queue.length === 0) stopOverflow();
    return group;
  }

  function start(): void {
    const group = takeGroup();
    running++;
    void run(group)
      // run answers every append itself; this is for a fault of its own, which must not hang them.
      .catch((error: unknown) => {
        for (const waiting of group) waiting.reject(error);
      })
      .finally(() => {
        running--;
        pump();
      });
  }

  function stopOverflow(): void {
    clearTimeout(overflow);
    overflow = undefined;
  }

  /** How long the oldest waiting append has waited, in ms. */
  const oldestWait = () => {
    const [oldest] = queue;
    return oldest === undefined ? 0 : performance.now() - oldest.since;
  };

  function pump(): void {
    while (running < options.concurrency && queue.length > 0) start();
    if (queue.length === 0 || overflow !== undefined || running >= options.maxCalls) return;
    overflow = setTimeout(() => {
      overflow = undefined;
      // The append this was set for may have gone in a call meanwhile: only a real wait starts one more.
      if (queue.length > 0 && running < options.maxCalls && oldestWait() >= options.overflowAfterMs) start();
      pump();
    }, Math.max(0, options.overflowAfterMs - oldestWait()));
  }

  function settle(group: readonly Waiting[], recorded: readonly RecordedEvent[]): void {
    const byId = new Map(recorded.map((event) => [event.id, event]));
    for (const waiting of group) {
      const own = waiting.items.flatMap((item) => byId.get(item.id) ?? []);
      if (own.length === waiting.items.length) waiting.resolve(own);
      else waiting.reject(new Error(`the store answered ${own.length} of this append's ${waiting.items.length} events`));
    }
  }

  async function alone(waiting: Waiting): Promise<void> {
    await append(waiting.items, waiting.request).then(waiting.resolve, waiting.reject);
  }

  async function run(group: readonly Waiting[]): Promise<void> {
    const [first] = group;
    if (first === undefined) return;
    if (group.length === 1) return alone(first);
    let recorded: RecordedEvent[];
    try {
      // No idempotency key, so the actor is not read: any of the group's will do.
      recorded = await append(group.flatMap((w) => w.items), { actor: first.request.actor, idempotencyKey: undefined, requestHash: undefined });
    } catch (error) {
      if (isEveryones(error)) {
        for (const waiting of group) waiting.reject(error);
        return;
      }
      const culprit = culpritOf(group, refusedIndex(error));
      if (culprit === undefined) {
        for (const waiting of group) await alone(waiting);
        return;
      }
      await run(group.slice(0, culprit));
      await run(group.slice(culprit, culprit + 1));
      await run(group.slice(culprit + 1));
      return;
    }
    settle(group, recorded);
  }

  return {
    load: () => ({ waiting: queue.length, running }),
    append(items, request) {
      if (!combinable(items, request, options.maxEvents)) return append(items, request);
      if (queue.length >= options.maxWaiting) return Promise.reject(unavailable(`${queue.length} appends are waiting already`));
      return new Promise<RecordedEvent[]>((resolve, reject) => {
        const waiting: Waiting = {
          items,
          request,
          milestones: milestonesOf(items),
          since: performance.now(),
          expiry: setTimeout(() => {
            const at = queue.indexOf(waiting);
            if (at < 0) return;
            queue.splice(at, 1);
            reject(unavailable(`no append call was free for ${options.maxWaitMs} ms`));
          }, options.maxWaitMs),
          resolve,
          reject,
        };
        queue.push(waiting);
        pump();
      });
    },
  };
}

/** The position in `group` of the append that holds the combined call's event `index`. */
function culpritOf(group: readonly Waiting[], index: number | undefined): number | undefined {
  if (index === undefined) return undefined;
  let end = 0;
  for (const [at, waiting] of group.entries()) {
    end += waiting.items.length;
    if (index < end) return at;
  }
  return undefined;
}
