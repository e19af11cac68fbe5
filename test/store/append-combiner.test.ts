import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CommitOutcomeUnknownError, DatabaseUnavailableError, StatementTimeoutError, UnknownReferenceError } from '../../src/domain/errors.js';
import { parseFuzzyDate } from '../../src/domain/fuzzy-date.js';
import type { RecordedEvent } from '../../src/domain/recorded-event.js';
import { createAppendCombiner, type AppendCombinerOptions } from '../../src/store/append-combiner.js';
import type { AppendItem, AppendRequest } from '../../src/store/event-store.js';

/*
 * The combiner's rules, driven by a stand-in for the store whose calls the test ends when it
 * chooses, so that appends are known to wait while calls run. Through HTTP and PostgreSQL:
 * test/http/append-combiner.test.ts.
 */

const DAY = parseFuzzyDate('2026-03-01');
if (DAY === undefined) throw new Error('a day parses');

const fact = (programId: string, milestone?: string): AppendItem => ({
  id: randomUUID(),
  type: milestone === undefined ? 'seminar.held' : 'milestone.started',
  schemaVersion: 1,
  expectedVersion: undefined,
  occurredAt: DAY,
  data: { programId, ...(milestone !== undefined && { milestone }) },
  sources: [],
  metadata: { actor: 'test', requestId: randomUUID() },
  subject: { stream: `program:${programId}`, programId, consortiumId: undefined, milestone, retracts: undefined, requires: [], defines: [] },
});

const definition = (programId: string): AppendItem => {
  const item = fact(programId);
  return { ...item, type: 'program.registered', subject: { ...item.subject, defines: [{ kind: 'program', key: programId }] } };
};

/** Reference events that define nothing new but touch cells they do not name (an elimination, all of its consortium's). */
const elimination = (programId: string, consortiumId: string): AppendItem => {
  const item = fact(programId);
  return { ...item, type: 'consortium.eliminated', subject: { ...item.subject, consortiumId, milestone: undefined } };
};
const reschedule = (programId: string, milestone: string): AppendItem => ({ ...fact(programId, milestone), type: 'milestone.rescheduled' });

const PLAIN: AppendRequest = { actor: 'k', idempotencyKey: undefined, requestHash: undefined };

const stored = (item: AppendItem, position: number): RecordedEvent => ({
  id: item.id,
  type: item.type,
  schemaVersion: item.schemaVersion,
  stream: item.subject.stream ?? '',
  streamVersion: position,
  position,
  occurredAt: DAY,
  recordedAt: new Date(),
  data: {},
  sources: [],
  metadata: item.metadata,
});

interface Call {
  readonly items: readonly AppendItem[];
  readonly request: AppendRequest;
  /** Ends the call: stores its items, or fails with `error`. */
  end(error?: unknown): void;
}

/** A store whose calls stay open until the test ends them; `refuse` fails a call at once. */
function heldStore(refuse: (items: readonly AppendItem[]) => unknown = () => undefined) {
  const calls: Call[] = [];
  let position = 0;
  const append = (items: readonly AppendItem[], request: AppendRequest) =>
    new Promise<RecordedEvent[]>((resolve, reject) => {
      const refusal = refuse(items);
      if (refusal !== undefined) {
        calls.push({ items, request, end: () => undefined });
        reject(refusal);
        return;
      }
      calls.push({ items, request, end: (error) => (error === undefined ? resolve(items.map((item) => stored(item, ++position))) : reject(error)) });
    });
  return { calls, append };
}

const OPTIONS: AppendCombinerOptions = { concurrency: 1, maxCalls: 1, overflowAfterMs: 10_000, maxWaitMs: 10_000, maxWaiting: 100, maxEvents: 100 };

/** Lets the promise chains run. */
const settle = () => sleep(5);

describe('the append combiner', () => {
  it('sends an append at once when a call is free, and those that come meanwhile together, in arrival order', async () => {
    const store = heldStore();
    const combiner = createAppendCombiner(store.append, OPTIONS);
    const first = [fact('p1', 'm1')];
    const waiting = [[fact('p1', 'm2')], [fact('p2', 'm1'), fact('p2')], [fact('p3', 'm1')]];

    const answers = [first, ...waiting].map((items) => combiner.append(items, PLAIN));
    await settle();
    expect(store.calls.map((c) => c.items)).toEqual([first]);
    store.calls[0]?.end();
    await settle();

    expect(store.calls.map((c) => c.items)).toEqual([first, waiting.flat()]);
    store.calls[1]?.end();
    const answered = await Promise.all(answers);
    expect(answered.map((events) => events.map((e) => e.id))).toEqual([first, ...waiting].map((items) => items.map((i) => i.id)));
  });

  it('never puts two appends that name the same milestone of a program in one call', async () => {
    const store = heldStore();
    const combiner = createAppendCombiner(store.append, OPTIONS);
    const blocker = combiner.append([fact('p0')], PLAIN);
    const a = [fact('p1', 'm1')];
    const b = [fact('p2', 'm1')];
    const sameCellAsA = [fact('p1', 'm1')];
    const c = [fact('p3', 'm1')];
    const answers = [a, b, sameCellAsA, c].map((items) => combiner.append(items, PLAIN));
    await settle();
    store.calls[0]?.end();
    await settle();
    store.calls[1]?.end();
    await settle();
    store.calls[2]?.end();

    await Promise.all([blocker, ...answers]);
    expect(store.calls.map((call) => call.items.map((i) => i.id))).toEqual([
      [expect.any(String)],
      [...a, ...b].map((i) => i.id),
      [...sameCellAsA, ...c].map((i) => i.id),
    ]);
  });

  it('sends reference events, appends with an Idempotency-Key and appends over maxEvents alone, without waiting', async () => {
    const store = heldStore();
    const combiner = createAppendCombiner(store.append, { ...OPTIONS, maxEvents: 2 });
    const first = [fact('p0')];
    void combiner.append(first, PLAIN);
    const alone = [
      { items: [definition('p1')], request: PLAIN },
      { items: [elimination('p1', 'c1')], request: PLAIN },
      { items: [fact('p1', 'm1'), reschedule('p1', 'm2')], request: PLAIN },
      { items: [fact('p2', 'm1')], request: { ...PLAIN, idempotencyKey: 'key-1', requestHash: 'h' } },
      { items: [fact('p3'), fact('p3'), fact('p3')], request: PLAIN },
    ];
    for (const { items, request } of alone) void combiner.append(items, request);
    await settle();
    // The first call still runs, and each of these has a call of its own.
    expect(store.calls.map((c) => c.items)).toEqual([first, ...alone.map((a) => a.items)]);
    expect(store.calls[4]?.request.idempotencyKey).toBe('key-1');
  });

  it('answers the append the store refused with its own refusal, and stores the others of its call in three calls at most', async () => {
    const refusedItem = fact('p9', 'no-such-milestone');
    // The store refuses any call that holds the refused item, naming its index there, as append_events does.
    const store = heldStore((items) => {
      const at = items.findIndex((item) => item.id === refusedItem.id);
      return at < 0 ? undefined : new UnknownReferenceError(at, 'milestone', 'p9/no-such-milestone', 'unknown', 'milestone');
    });
    const combiner = createAppendCombiner(store.append, OPTIONS);
    const blocker = combiner.append([fact('p0')], PLAIN);
    const requests = [[fact('p1', 'm1')], [fact('p2', 'm1'), fact('p2')], [fact('p3'), refusedItem], [fact('p4', 'm1')], [fact('p5', 'm1')]];
    const answers = requests.map((items) => combiner.append(items, PLAIN).then((events) => events.length, (error: unknown) => error));
    await settle();
    store.calls[0]?.end();
    // The combined call is refused; then the two before the refused append go together, it alone, the two after together.
    for (let i = 0; i < 6; i++) {
      await settle();
      for (const call of store.calls.slice(1)) call.end();
    }
    await blocker;

    const outcomes = await Promise.all(answers);
    expect(outcomes.slice(0, 2)).toEqual([1, 2]);
    expect(outcomes[2]).toBeInstanceOf(UnknownReferenceError);
    // Its index is the one in its own request, as if it had never been combined.
    expect(outcomes[2]).toMatchObject({ eventIndex: 1 });
    expect(outcomes.slice(3)).toEqual([1, 1]);
    expect(store.calls.map((c) => c.items.length)).toEqual([1, 7, 3, 2, 2]);
  });

  it('runs each append of a call alone after an unforeseen failure, and answers all with a lost connection or a timeout', async () => {
    const unforeseen = Object.assign(new Error('deadlock detected'), { code: '40P01' });
    for (const [failure, calls] of [
      [unforeseen, 1 + 1 + 3],
      [new CommitOutcomeUnknownError(undefined, { cause: new Error('gone') }), 1 + 1],
      [new StatementTimeoutError({ cause: new Error('slow') }), 1 + 1],
    ] as const) {
      const store = heldStore();
      const combiner = createAppendCombiner(store.append, OPTIONS);
      const blocker = combiner.append([fact('p0')], PLAIN);
      const answers = [fact('p1'), fact('p2'), fact('p3')].map((item) => combiner.append([item], PLAIN).then(() => 'stored', (error: unknown) => error));
      await settle();
      store.calls[0]?.end();
      await settle();
      store.calls[1]?.end(failure);
      for (let i = 0; i < 4; i++) {
        await settle();
        for (const call of store.calls.slice(2)) call.end();
      }
      await blocker;

      const outcomes = await Promise.all(answers);
      expect(store.calls).toHaveLength(calls);
      expect(outcomes).toEqual(failure === unforeseen ? ['stored', 'stored', 'stored'] : [failure, failure, failure]);
    }
  });

  it('answers 503 to an append that waited maxWaitMs for a call, and never sends it', async () => {
    const store = heldStore();
    const combiner = createAppendCombiner(store.append, { ...OPTIONS, maxWaitMs: 30 });
    const blocker = combiner.append([fact('p0')], PLAIN);
    const waiting = combiner.append([fact('p1')], PLAIN).catch((error: unknown) => error);

    const refused = await waiting;
    expect(refused).toBeInstanceOf(DatabaseUnavailableError);
    expect(refused).toMatchObject({ querySent: false });
    store.calls[0]?.end();
    await blocker;
    await settle();
    expect(store.calls).toHaveLength(1);
  });

  it('starts another call, up to maxCalls, once the oldest waiting append has waited overflowAfterMs', async () => {
    const store = heldStore();
    const combiner = createAppendCombiner(store.append, { ...OPTIONS, maxCalls: 2, overflowAfterMs: 20 });
    const answers = [[fact('p0')], [fact('p1')], [fact('p2', 'm1')], [fact('p2', 'm1')]].map((items) => combiner.append(items, PLAIN));
    await settle();
    expect(store.calls).toHaveLength(1);

    await sleep(60);
    // One more call for the stalled one (the next waiting append names the same milestone, so it waits on), and no more.
    expect(store.calls.map((c) => c.items.length)).toEqual([1, 2]);
    for (let i = 0; i < 3; i++) {
      for (const call of store.calls) call.end();
      await settle();
    }
    expect(await Promise.all(answers)).toHaveLength(4);
  });

  it('starts no extra call for an append that has not waited overflowAfterMs itself', async () => {
    const store = heldStore();
    const combiner = createAppendCombiner(store.append, { ...OPTIONS, maxCalls: 2, overflowAfterMs: 40 });
    const first = combiner.append([fact('p0')], PLAIN);
    const early = combiner.append([fact('p1')], PLAIN);
    await sleep(10);
    // The call ends before the early append has waited 40 ms: it goes in the next call, the normal way.
    store.calls[0]?.end();
    await first;
    await sleep(25);
    const late = combiner.append([fact('p2')], PLAIN);
    await sleep(15);
    // 50 ms since the early append came, but the late one has waited 15: still the one call running.
    expect(store.calls.map((c) => c.items.length)).toEqual([1, 1]);
    for (let i = 0; i < 3; i++) {
      for (const call of store.calls) call.end();
      await settle();
    }
    await Promise.all([early, late]);
  });
});
