import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { EventBody, PlannedEvent, ScaleHistory } from './scale-history.js';

/*
 * Posts a scale history through POST /v1/events in batches, a few posters at a time, and keeps what
 * a benchmark needs from the answers: the ids (for retractions), when each batch was recorded (for
 * knownAt) and the load rate per bucket of events, on a clock that stops while the load is paused.
 */

export interface LoadOptions {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly batchSize: number;
  readonly posters: number;
  /** Events per bucket of the load rate. */
  readonly bucket: number;
}

export interface BucketRate {
  /** Events stored when the bucket closed. */
  readonly upTo: number;
  readonly eventsPerSecond: number;
  /** The last bucket, not filled. */
  readonly partial: boolean;
}

export interface HistoryLoader {
  /** Events stored so far. */
  loaded(): number;
  /** Posts the reference events, one batch at a time (each may need the previous one). */
  loadReferences(): Promise<void>;
  /** Posts facts until `target` events are stored (or the history's end). */
  loadUntil(target: number): Promise<void>;
  bucketRates(): BucketRate[];
  /** The recordedAt of the batch that stored the event at global index `index`, or the nearest one. */
  recordedAtNear(index: number): string;
}

/** A body as JSON, or as it is when it is none (a proxy's page). */
function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** 503 problems after which nothing was stored, so the same batch may be sent again. */
const NOTHING_STORED = new Set(['/problems/database-timeout', '/problems/database-unavailable', '/problems/database-conflict']);

const Stored = z.object({ events: z.array(z.object({ id: z.string(), recordedAt: z.string() })) });

export function createHistoryLoader(history: ScaleHistory, total: number, options: LoadOptions): HistoryLoader {
  const ids: string[] = [];
  const recorded: { readonly end: number; readonly at: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  const bucketClock: number[] = [];
  let planned = 0;
  let stored = 0;
  let activeMs = 0;
  let segmentStart: number | undefined;
  let nextBoundary = options.bucket;

  const clock = () => activeMs + (segmentStart === undefined ? 0 : performance.now() - segmentStart);

  async function post(start: number, events: readonly EventBody[]): Promise<void> {
    let response: Response;
    let text: string;
    for (let attempt = 1; ; attempt++) {
      response = await fetch(`${options.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: JSON.stringify({ events }),
      });
      text = await response.text();
      // A 503 that stored nothing (the statement timed out on a loaded machine, the database away or
      // in a conflict) is sent again after Retry-After, as a client should; its wait counts in the rate.
      const type = response.status === 503 ? z.object({ type: z.string() }).safeParse(parsedOrText(text)).data?.type : undefined;
      if (attempt > 5 || type === undefined || !NOTHING_STORED.has(type)) break;
      console.error(`[load] batch at ${start}: ${type}, sent again (attempt ${attempt + 1})`);
      await sleep(Number(response.headers.get('retry-after') ?? '1') * 1000);
    }
    if (response.status !== 201) throw new Error(`batch at ${start}: ${response.status} ${text.slice(0, 800)}`);
    const answer = Stored.parse(JSON.parse(text)).events;
    answer.forEach((e, i) => {
      ids[start + i] = e.id;
    });
    recorded.push({ end: start + answer.length, at: answer[0]?.recordedAt ?? new Date().toISOString() });
    stored += answer.length;
    while (stored >= nextBoundary) {
      bucketClock.push(clock());
      nextBoundary += options.bucket;
    }
  }

  /** Waits until the event at `index` is stored, so that a retraction can name its id. */
  async function idOf(index: number): Promise<string> {
    for (;;) {
      const id = ids[index];
      if (id !== undefined) return id;
      if (inFlight.size === 0) throw new Error(`event ${index} was never stored`);
      await Promise.race(inFlight);
    }
  }

  async function resolve(plan: readonly PlannedEvent[]): Promise<EventBody[]> {
    return Promise.all(
      plan.map(async (p): Promise<EventBody> => {
        if (p.kind === 'body') return p.body;
        return { type: 'event.retracted', occurredAt: p.occurredAt, data: { eventId: await idOf(p.target), reason: 'Reported in error' } };
      }),
    );
  }

  async function timed(work: () => Promise<void>): Promise<void> {
    segmentStart = performance.now();
    try {
      await work();
    } finally {
      activeMs += performance.now() - segmentStart;
      segmentStart = undefined;
    }
  }

  const loadReferences = () =>
    timed(async () => {
      const refs = history.references;
      for (let start = 0; start < refs.length; start += options.batchSize) {
        await post(start, refs.slice(start, start + options.batchSize));
      }
      planned = refs.length;
    });

  const loadUntil = (target: number) =>
    timed(async () => {
      const end = Math.min(target, total);
      const poster = async () => {
        while (planned < end) {
          const start = planned;
          const size = Math.min(options.batchSize, end - start);
          planned += size;
          const plan = history.planFacts(start, size);
          const work = resolve(plan).then((events) => post(start, events));
          inFlight.add(work);
          try {
            await work;
          } finally {
            inFlight.delete(work);
          }
        }
      };
      await Promise.all(Array.from({ length: options.posters }, poster));
    });

  /** Whole buckets, then the partial last one (if any). */
  const bucketRates = (): BucketRate[] => {
    const marks = [...bucketClock.map((at, i) => ({ upTo: (i + 1) * options.bucket, at }))];
    const whole = marks.length * options.bucket;
    if (stored > whole) marks.push({ upTo: stored, at: clock() });
    return marks.map((mark, i) => {
      const previous = marks[i - 1] ?? { upTo: 0, at: 0 };
      const seconds = Math.max(1, mark.at - previous.at) / 1000;
      return { upTo: mark.upTo, eventsPerSecond: (mark.upTo - previous.upTo) / seconds, partial: mark.upTo % options.bucket !== 0 };
    });
  };

  const recordedAtNear = (index: number): string => {
    let found = recorded.at(-1);
    for (const r of recorded) if (r.end > index && (found === undefined || found.end <= index || r.end < found.end)) found = r;
    return found?.at ?? new Date().toISOString();
  };

  return { loaded: () => stored, loadReferences, loadUntil, bucketRates, recordedAtNear };
}
