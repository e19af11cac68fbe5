import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CELL_EVIDENCE_LIMIT } from '../../src/store/cell-evidence-limit.js';
import { rebuildReadModel } from '../../src/store/read-model-rebuild.js';
import { uniqueId } from '../support/events.js';
import { get, record } from '../support/http.js';
import { comparable, cutQuery, referenceMatrix, type ComparableMilestone, type Cut } from '../support/reference-views.js';
import { useTestApp } from '../support/test-app.js';
import { matrix } from '../support/views.js';

/*
 * Random histories, recorded one request at a time in a random order with random retractions, late
 * facts, eliminations and reschedules. The read model kept at append must answer every cut-off as
 * the reference model (test/support/reference-status-model.ts) folds the whole log, and a rebuild
 * from the log must answer the same. The current cut (no asOf, no knownAt) is always among them: it
 * reads what milestone_cell keeps, not the timeline, so it is checked on its own path; crowded
 * histories push one cell past the evidence it keeps, with late facts and retractions among them.
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
});
type History = typeof History extends fc.Arbitrary<infer H> ? H : never;

/** At most this many retractions in a crowded history. */
const CROWDED_RETRACTIONS = 4;

/**
 * Facts on the program-scope milestone alone, recorded out of world order: more than a cell keeps,
 * even once the most retractions there may be have taken some back (holdsAgainstReference checks it).
 */
const Crowded: fc.Arbitrary<History> = fc.record({
  enrolled: fc.constant([]),
  changes: fc.array(
    fc.record({ kind: fc.constant('fact' as const), type: fc.constantFrom(...FACTS), milestone: fc.constant('m1' as const), who: fc.nat(), date: fc.constantFrom(...DATES) }),
    { minLength: CELL_EVIDENCE_LIMIT + 1 + CROWDED_RETRACTIONS, maxLength: CELL_EVIDENCE_LIMIT + 12 },
  ),
  retractions: fc.array(fc.record({ at: fc.nat(), target: fc.nat() }), { minLength: 1, maxLength: CROWDED_RETRACTIONS }),
});

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

const Cuts = fc.array(
  fc.record({
    asOf: fc.option(fc.constantFrom('2025-06', '2026-04-15', '2026-05-20', '2026-06-10', '2026-07-01', '2026-12-31'), { nil: undefined }),
    // An index into the steps: the cut-off is when that step was recorded.
    knownAt: fc.option(fc.nat(), { nil: undefined }),
  }),
  { minLength: 1, maxLength: 4 },
);
type CutList = typeof Cuts extends fc.Arbitrary<infer C> ? C : never;

const EvidencePage = z.object({ evidence: z.array(z.object({ id: z.string() })), nextCursor: z.string().optional() });

/** Every cell's whole evidence at the cut, read a few entries a page from the cell (SPEC §4), as the reference's matrix holds it. */
async function pagedEvidence(programId: string, cut: Cut, reference: readonly ComparableMilestone[]): Promise<ComparableMilestone[]> {
  const cutParams = cutQuery(cut).replace(/^\?/, '&');
  return Promise.all(
    reference.map(async (m) => ({
      ...m,
      cells: await Promise.all(
        m.cells.map(async (c) => {
          const evidence: string[] = [];
          const consortium = c.consortiumId === '-' ? '' : `&consortiumId=${c.consortiumId}`;
          for (let after = ''; ; ) {
            const response = await get(t.app, `/v1/programs/${programId}/milestones/${m.milestone}/evidence?limit=7${consortium}${cutParams}${after}`);
            expect(response.status, JSON.stringify(response.body)).toBe(200);
            const page = EvidencePage.parse(response.body);
            evidence.push(...page.evidence.map((e) => e.id));
            // A cursor that does not move on would page for ever: more than the whole list is enough to fail.
            if (page.nextCursor === undefined || evidence.length > c.evidence.length) return { ...c, evidence };
            after = `&after=${encodeURIComponent(page.nextCursor)}`;
          }
        }),
      ),
    })),
  );
}

/**
 * Records the history; the matrix at the current cut and at each of these cuts must be the
 * reference's, before and after a rebuild, and, with `paged`, each cell's evidence paged from the
 * cell must be the reference's whole list.
 */
async function holdsAgainstReference(history: History, cuts: CutList, paged = false): Promise<void> {
  const steps = stepsOf(history);
  const { ids, recordedAt } = await replay(steps);
  const now = new Date();
  const at = cuts.map((c) => ({ asOf: c.asOf, knownAt: c.knownAt === undefined ? undefined : recordedAt[c.knownAt % recordedAt.length] }));
  const views = async () => Promise.all([{}, ...at].map(async (cut) => comparable(await matrix(t.app, ids.program, cutQuery(cut)))));
  const expected = await Promise.all([{}, ...at].map((cut) => referenceMatrix(t.database.db, ids.program, cut, now)));

  expect(await views()).toEqual(expected);
  if (paged) {
    // Crowded indeed: the cell holds more evidence than it shows, so that the rest is paged.
    expect(expected[0]?.find((m) => m.milestone === 'm1')?.cells[0]?.evidenceCount).toBeGreaterThan(CELL_EVIDENCE_LIMIT);
    for (const cut of [{}, ...at]) {
      const whole = await referenceMatrix(t.database.db, ids.program, cut, now, Number.POSITIVE_INFINITY);
      expect(await pagedEvidence(ids.program, cut, whole), JSON.stringify(cut)).toEqual(whole);
    }
  }

  // Small chunks (5 cells each) and, on a server, two connections folding them side by side, as
  // `npm run projections:rebuild` does.
  await rebuildReadModel(t.database.db, () => {}, 50, t.database.concurrentTransactions ? 2 : 1);
  expect(await views()).toEqual(expected);
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 40);

describe('milestone read model (property)', () => {
  it('equals the reference model of SPEC §4 at the current cut and random (asOf, knownAt) cut-offs, and after a rebuild', async () => {
    await fc.assert(fc.asyncProperty(History, Cuts, (history, cuts) => holdsAgainstReference(history, cuts)), { numRuns: RUNS });
  }, 900_000);

  it('keeps the latest evidence of a crowded cell as the reference model folds it, through late facts and retractions, and pages the rest from the cell', async () => {
    await fc.assert(fc.asyncProperty(Crowded, Cuts, (history, cuts) => holdsAgainstReference(history, cuts, true)), { numRuns: Math.ceil(RUNS / 2) });
  }, 900_000);
});
