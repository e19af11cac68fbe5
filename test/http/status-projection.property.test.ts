import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { rebuildMilestoneCells } from '../../src/store/milestone-cells.js';
import { uniqueId } from '../support/events.js';
import { waitForFeedHorizon } from '../support/feed-horizon.js';
import { get, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { matrix } from '../support/views.js';

/*
 * Random histories, recorded one request at a time in a random order with random retractions.
 * Three implementations must agree: the SQL projection kept at append (current views), the TS fold
 * used for cut-offs (asOf/knownAt views), and the rebuild. The oracle for a cut-off is independent
 * of it: the same prefix of the history replayed under fresh ids, read from its projection.
 */

const t = useTestApp();

const CONSORTIUMS = ['c1', 'c2', 'c3'] as const;
const MILESTONES = ['m1', 'm2', 'm3'] as const; // m1: program scope; m2, m3: consortium scope
const DATES = ['2026', '2026-H1', '2026-Q2', '2026-05', '2026-05-14', '2026-06', '2026-06-10', '2026-Q3', '2026-09-01T10:00:00+09:00'];
const FACTS = [
  'mou.signed',
  'seminar.held',
  'pilot.started',
  'pilot.completed',
  'model.announced',
  'evaluation.held',
  'milestone.started',
  'milestone.achieved',
  'milestone.missed',
  'milestone.cancelled',
] as const;

type Ids = { program: string; consortium: (c: string) => string };
type Step = { kind: 'event'; body: (ids: Ids) => object } | { kind: 'retract'; target: number };

const Change = fc.oneof(
  fc.record({ kind: fc.constant('fact' as const), type: fc.constantFrom(...FACTS), milestone: fc.constantFrom(...MILESTONES), who: fc.nat(), date: fc.constantFrom(...DATES) }),
  fc.record({ kind: fc.constant('reschedule' as const), milestone: fc.constantFrom(...MILESTONES), due: fc.constantFrom('2026-Q3', '2026-10', '2027'), date: fc.constantFrom(...DATES) }),
  fc.record({ kind: fc.constant('eliminate' as const), who: fc.nat(), date: fc.constantFrom(...DATES) }),
);

const History = fc.record({
  enrolled: fc.subarray([...CONSORTIUMS]),
  changes: fc.array(Change, { minLength: 1, maxLength: 12 }),
  retractions: fc.array(fc.record({ at: fc.nat(), target: fc.nat() }), { maxLength: 4 }),
  cut: fc.nat(),
  asOf: fc.constantFrom('2026-04-15', '2026-05-20', '2026-06-10', '2026-07-01', '2026-12-31'),
});
type History = typeof History extends fc.Arbitrary<infer H> ? H : never;

/** Turns a generated history into valid steps: definitions, then changes, retractions in between. */
function stepsOf(history: History): Step[] {
  const { enrolled } = history;
  const pick = (n: number) => enrolled[n % enrolled.length];
  const steps: Step[] = [
    {
      kind: 'event',
      body: (ids) => ({
        events: [
          { type: 'program.registered', occurredAt: '2025-01', data: { programId: ids.program, name: 'P' } },
          ...MILESTONES.map((m, i) => ({
            type: 'milestone.planned',
            occurredAt: i === 2 ? '2026-03-10' : '2025-02',
            data: { programId: ids.program, milestone: m, title: m, scope: i === 0 ? 'program' : 'consortium', due: '2026-08' },
          })),
          ...CONSORTIUMS.map((c) => ({ type: 'consortium.registered', occurredAt: '2025-01', data: { consortiumId: ids.consortium(c), name: c, lead: c } })),
          ...enrolled.map((c, i) => ({
            type: 'consortium.enrolled',
            occurredAt: i === 0 ? '2025-03' : '2026-04-01',
            data: { consortiumId: ids.consortium(c), programId: ids.program },
          })),
        ],
      }),
    },
  ];
  const eliminated = new Set<string>();
  history.changes.forEach((change, i) => {
    if (change.kind === 'fact') {
      const who = pick(change.who);
      // Nobody enrolled: only the program-scope milestone can take a fact.
      if (who === undefined && change.milestone !== 'm1') return;
      steps.push({
        kind: 'event',
        body: (ids) =>
          factBody(change.type, change.date, ids.program, who === undefined || (change.milestone === 'm1' && i % 2 === 0) ? undefined : ids.consortium(who), change.milestone),
      });
    } else if (change.kind === 'reschedule') {
      steps.push({ kind: 'event', body: (ids) => ({ type: 'milestone.rescheduled', occurredAt: change.date, data: { programId: ids.program, milestone: change.milestone, due: change.due } }) });
    } else {
      const who = pick(change.who);
      if (who === undefined || eliminated.has(who)) return;
      eliminated.add(who);
      steps.push({ kind: 'event', body: (ids) => ({ type: 'consortium.eliminated', occurredAt: change.date, data: { programId: ids.program, consortiumId: ids.consortium(who) } }) });
    }
    for (const r of history.retractions.filter((x) => x.at % history.changes.length === i)) {
      const candidates = steps.map((_, index) => index).filter((index) => index > 0 && steps[index]?.kind === 'event');
      const target = candidates[r.target % candidates.length];
      const taken = steps.some((s) => s.kind === 'retract' && s.target === target);
      if (target !== undefined && !taken) steps.push({ kind: 'retract', target });
    }
  });
  return steps;
}

function factBody(type: string, occurredAt: string, programId: string, consortiumId: string | undefined, milestone: string) {
  const subject = { programId, milestone, ...(consortiumId !== undefined && { consortiumId }) };
  const needsConsortium = ['pilot.started', 'pilot.completed', 'model.announced'].includes(type);
  const data: Record<string, unknown> = { ...subject };
  if (needsConsortium && consortiumId === undefined) return { type: 'milestone.achieved', occurredAt, data };
  if (type === 'mou.signed') Object.assign(data, { parties: ['A', 'B'], title: 'MOU' });
  if (type === 'seminar.held') Object.assign(data, { title: 'Seminar' });
  if (type === 'model.announced') Object.assign(data, { model: 'M' });
  return { type, occurredAt, data };
}

/** Records the steps under fresh ids; returns the ids and the event id of each step, in order. */
async function replay(steps: readonly Step[]) {
  const program = uniqueId('prop');
  const suffix = program.slice(-8);
  const ids: Ids = { program, consortium: (c) => `${c}-${suffix}` };
  const stepIds: string[][] = [];
  const recordedAt: string[] = [];
  for (const step of steps) {
    const body =
      step.kind === 'event'
        ? step.body(ids)
        : { type: 'event.retracted', occurredAt: '2026-12', data: { eventId: stepIds[step.target]?.[0], reason: 'wrong' } };
    const events = await record(t.app, ...('events' in body && Array.isArray(body.events) ? body.events : [body]));
    stepIds.push(events.map((e) => e.id));
    recordedAt.push(events.at(-1)?.recordedAt ?? '');
  }
  return { ids, stepIds, recordedAt };
}

/** A view without the ids of this replay: consortiums and evidence by their generated names. */
function normalise(view: Awaited<ReturnType<typeof matrix>>, ids: Ids, stepIds: readonly string[][]) {
  const nameOf = new Map(CONSORTIUMS.map((c) => [ids.consortium(c), c]));
  const stepOf = new Map(stepIds.flatMap((list, step) => list.map((id, k) => [id, `${step}.${k}`] as const)));
  return view.milestones.map((m) => ({
    milestone: m.milestone,
    due: m.due?.value,
    counts: m.counts,
    cells: m.cells
      .map((c) => ({
        consortium: c.consortiumId === undefined ? '-' : nameOf.get(c.consortiumId),
        status: c.status,
        since: c.since.value,
        due: c.due?.value,
        evidence: c.evidence.map((id) => stepOf.get(id) ?? id),
      }))
      .sort((a, b) => String(a.consortium).localeCompare(String(b.consortium))),
  }));
}

const Feed = z.object({ events: z.array(z.object({ id: z.string(), occurredAt: z.object({ start: z.string() }), type: z.string() })) });

describe('milestone projection (property)', () => {
  it('agrees with the fold of the log, survives a rebuild, and answers cut-offs as a replay of the prefix', async () => {
    await fc.assert(
      fc.asyncProperty(History, async (history) => {
        const steps = stepsOf(history);
        const { ids, stepIds, recordedAt } = await replay(steps);

        // (a) The projection kept at append equals a from-scratch fold of the whole log.
        const projected = await matrix(t.app, ids.program);
        const folded = await matrix(t.app, ids.program, `?knownAt=${new Date(Date.now() + 60_000).toISOString()}`);
        expect(normalise(projected, ids, stepIds)).toEqual(normalise(folded, ids, stepIds));

        // (b) A rebuild from the log yields identical views.
        await rebuildMilestoneCells(t.database.db);
        expect(normalise(await matrix(t.app, ids.program), ids, stepIds)).toEqual(normalise(projected, ids, stepIds));

        // (c) knownAt = what a replay of the recorded prefix shows.
        const cut = history.cut % steps.length;
        const prefix = steps.slice(0, cut + 1);
        const known = await matrix(t.app, ids.program, `?knownAt=${recordedAt[cut]}`);
        const prefixReplay = await replay(prefix);
        expect(normalise(known, ids, stepIds)).toEqual(
          normalise(await matrix(t.app, prefixReplay.ids.program), prefixReplay.ids, prefixReplay.stepIds),
        );

        // (c) asOf = what a replay of only the events that had begun by then shows (every
        // definition begins before the earliest asOf drawn, so the replay's references hold).
        await waitForFeedHorizon(t.database.db);
        const feed = Feed.parse((await get(t.app, `/v1/events?programId=${ids.program}&limit=1000`)).body).events;
        const asOf = new Date(history.asOf);
        const began = new Set(feed.filter((e) => new Date(e.occurredAt.start) <= asOf).map((e) => e.id));
        const keptEvents = steps
          .map((s, i) => ({ s, i }))
          .filter(({ s, i }) => s.kind === 'event' && (i === 0 || (stepIds[i] ?? []).every((id) => began.has(id))));
        const keptIndices = steps
          .map((s, i) => ({ s, i }))
          .filter(({ s, i }) => (s.kind === 'event' ? keptEvents.some((k) => k.i === i) : keptEvents.some((k) => k.i === s.target)))
          .map(({ i }) => i);
        const asOfSteps = keptIndices.map((i): Step => {
          const s = steps[i] ?? { kind: 'retract', target: 0 };
          return s.kind === 'retract' ? { kind: 'retract', target: keptIndices.indexOf(s.target) } : s;
        });
        const asOfView = await matrix(t.app, ids.program, `?asOf=${history.asOf}`);
        const asOfReplay = await replay(asOfSteps);
        expect(normalise(asOfView, ids, keptIndices.map((i) => stepIds[i] ?? []))).toEqual(
          normalise(await matrix(t.app, asOfReplay.ids.program), asOfReplay.ids, asOfReplay.stepIds),
        );
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 15) },
    );
  }, 600_000);
});
