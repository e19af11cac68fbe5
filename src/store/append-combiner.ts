import type { Kysely } from 'kysely';
import {
  AlreadyDefinedError,
  RetractionRefusedError,
  UnknownReferenceError,
  VersionConflictError,
} from '../domain/errors.js';
import type { RecordedEvent } from '../domain/recorded-event.js';
import type { Database } from './database.js';
import { appendEvents, type AppendItem, type AppendRequest } from './event-store.js';

/*
 * Smart batching of appends (research/bitemporal-and-scale.md: Axon's micro-batching): at most
 * `concurrency` append calls run at once; appends that come while they run wait, and go together
 * as one call, one transaction, when one of them ends. Most of an append's cost in the database is
 * per call (planning its statements, the locks, the statement triggers, the commit), so under load
 * a combined call stores each event at about half the cost (the README's figures). Without load
 * nothing waits: an append finds a free slot and goes alone, at once.
 *
 * Combined appends are concurrent requests, so any order of them is one a client could have seen;
 * they are appended in arrival order and share one recorded moment, as one batch does. A combined
 * call that the store refuses for one append's mistake (a version, a reference, a retraction)
 * stores nothing; each of its appends is then run alone, in the same order, so that each gets its
 * own answer, exactly as if it had never been combined. Any other failure (the database gone, a
 * timeout) is every combined append's failure.
 *
 * An append with an idempotency key always goes alone: its key and body are checked per call.
 */

export interface AppendCombinerOptions {
  /** How many append calls run at once. */
  readonly concurrency: number;
  /** At most this many events in a combined call; a larger append goes alone. */
  readonly maxEvents: number;
}

export interface AppendCombiner {
  append(items: readonly AppendItem[], request: AppendRequest): Promise<RecordedEvent[]>;
}

interface Waiting {
  readonly items: readonly AppendItem[];
  readonly request: AppendRequest;
  resolve(events: RecordedEvent[]): void;
  reject(error: unknown): void;
}

/** The store's refusals of one append's content: in a combined call, they may be another append's. */
const isRefusal = (error: unknown) =>
  error instanceof VersionConflictError ||
  error instanceof UnknownReferenceError ||
  error instanceof AlreadyDefinedError ||
  error instanceof RetractionRefusedError;

export function createAppendCombiner(db: Kysely<Database>, options: AppendCombinerOptions): AppendCombiner {
  const queue: Waiting[] = [];
  let running = 0;

  /** The next call: the first waiting append, and those after it while the events fit. */
  function takeGroup(): Waiting[] {
    const group: Waiting[] = [];
    let events = 0;
    for (const next of queue) {
      if (group.length > 0 && events + next.items.length > options.maxEvents) break;
      group.push(next);
      events += next.items.length;
    }
    queue.splice(0, group.length);
    return group;
  }

  function pump(): void {
    while (running < options.concurrency && queue.length > 0) {
      const group = takeGroup();
      running++;
      void run(group).finally(() => {
        running--;
        pump();
      });
    }
  }

  async function alone(waiting: Waiting): Promise<void> {
    await appendEvents(db, waiting.items, waiting.request).then(waiting.resolve, waiting.reject);
  }

  async function run(group: readonly Waiting[]): Promise<void> {
    const [first] = group;
    if (first === undefined) return;
    if (group.length === 1) return alone(first);
    let recorded: RecordedEvent[];
    try {
      recorded = await appendEvents(
        db,
        group.flatMap((w) => w.items),
        // No idempotency key, so the actor is not read: any of the group's will do.
        { actor: first.request.actor, idempotencyKey: undefined, requestHash: undefined },
      );
    } catch (error) {
      if (!isRefusal(error)) {
        for (const waiting of group) waiting.reject(error);
        return;
      }
      for (const waiting of group) await alone(waiting);
      return;
    }
    const byId = new Map(recorded.map((event) => [event.id, event]));
    for (const waiting of group) {
      waiting.resolve(waiting.items.flatMap((item) => byId.get(item.id) ?? []));
    }
  }

  return {
    append(items, request) {
      if (request.idempotencyKey !== undefined || items.length > options.maxEvents) return appendEvents(db, items, request);
      return new Promise<RecordedEvent[]>((resolve, reject) => {
        queue.push({ items, request, resolve, reject });
        pump();
      });
    },
  };
}
