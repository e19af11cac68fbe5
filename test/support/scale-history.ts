/*
 * A deterministic history for the scale benchmark (issue 9): programs with milestones of both scopes,
 * consortiums enrolled in them, then facts that name milestones, two busy programs holding a share of
 * the facts each, a share recorded late (world time before the frontier), and retractions of earlier
 * facts. The same parameters and seed give the same sequence of events, so runs compare.
 */

export interface ScaleParams {
  readonly events: number;
  readonly programs: number;
  readonly consortiums: number;
  readonly milestones: number;
  /** Share of all facts for each of the two busy programs. */
  readonly hotShare: number;
  readonly lateShare: number;
  readonly retractShare: number;
  readonly seed: number;
}

export interface EventBody {
  readonly type: string;
  readonly occurredAt: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly sources?: readonly { readonly url: string; readonly publisher: string }[];
}

/** An event to post, or a retraction of the event at global index `target` (its id is known once posted). */
export type PlannedEvent =
  | { readonly kind: 'body'; readonly body: EventBody }
  | { readonly kind: 'retraction'; readonly target: number; readonly occurredAt: string };

export interface HistoryStats {
  facts: number;
  busy: number;
  late: number;
  fuzzy: number;
  retractions: number;
}

export interface ScaleHistory {
  /** Reference events: they must be posted in order, before any fact. */
  readonly references: readonly EventBody[];
  readonly hotPrograms: readonly [string, string];
  readonly coldProgram: string;
  /** A consortium enrolled in the first busy program. */
  readonly hotConsortium: string;
  /** A consortium-scope milestone of the busy programs, for the single-milestone view. */
  readonly milestone: string;
  /** The facts of global indexes [start, start + size): call with consecutive ranges. */
  planFacts(start: number, size: number): PlannedEvent[];
  /** The world-time day (YYYY-MM-DD) of the fact at global index `index`. */
  dayAt(index: number): string;
  /** What the facts planned so far hold. */
  stats(): HistoryStats;
  /** A fact as the load makes them, from its own generator (for single appends). */
  sampleFact(random: () => number, day: string): EventBody;
}

const HOT_ENROLLED = 20;
const COLD_ENROLLED = 3;
const HISTORY_DAYS = 730;
const WORLD_START = Date.UTC(2026, 0, 1);
const DAY_MS = 86_400_000;
const PROGRAM_FACTS = ['milestone.started', 'milestone.achieved', 'milestone.missed', 'evaluation.held', 'seminar.held', 'mou.signed'] as const;
const CONSORTIUM_FACTS = ['milestone.started', 'milestone.achieved', 'milestone.missed', 'pilot.started', 'pilot.completed', 'mou.signed'] as const;

/** mulberry32: small, fast, good enough to spread load deterministically. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const dayString = (day: number) => new Date(WORLD_START + day * DAY_MS).toISOString().slice(0, 10);
const quarterOf = (isoDay: string) => `${isoDay.slice(0, 4)}-Q${Math.floor((Number(isoDay.slice(5, 7)) - 1) / 3) + 1}`;
const pick = <T>(items: readonly T[], random: () => number, fallback: T): T => items[Math.floor(random() * items.length)] ?? fallback;
const isConsortiumScope = (m: number) => m % 2 === 0;

export function createScaleHistory(params: ScaleParams): ScaleHistory {
  const programIds = Array.from({ length: params.programs }, (_, p) => `p-${pad(p, 5)}`);
  const consortiumIds = Array.from({ length: params.consortiums }, (_, c) => `c-${pad(c, 5)}`);
  const milestoneIds = Array.from({ length: params.milestones }, (_, m) => `m-${m + 1}`);
  const enrolled = programIds.map((_, p) => {
    const count = Math.min(p < 2 ? HOT_ENROLLED : COLD_ENROLLED, params.consortiums);
    const first = p < 2 ? p * HOT_ENROLLED : 2 * HOT_ENROLLED + (p - 2) * COLD_ENROLLED;
    return Array.from({ length: count }, (_, j) => consortiumIds[(first + j) % params.consortiums] ?? 'c-00000');
  });

  const references: EventBody[] = [];
  programIds.forEach((programId, p) => {
    references.push({ type: 'program.registered', occurredAt: '2025', data: { programId, name: `Program ${p}`, sponsor: 'Ministry of Science and ICT' } });
    milestoneIds.forEach((milestone, m) => {
      const due = `${2026 + Math.floor(m / 4)}-Q${(m % 4) + 1}`;
      const scope = isConsortiumScope(m) ? 'consortium' : 'program';
      references.push({ type: 'milestone.planned', occurredAt: '2025-06', data: { programId, milestone, title: `Milestone ${m + 1} of program ${p}`, due, scope } });
    });
  });
  consortiumIds.forEach((consortiumId, c) => {
    references.push({ type: 'consortium.registered', occurredAt: '2025', data: { consortiumId, name: `Consortium ${c}`, lead: `Lead company ${c}` } });
  });
  programIds.forEach((programId, p) => {
    for (const consortiumId of enrolled[p] ?? []) references.push({ type: 'consortium.enrolled', occurredAt: '2025-09', data: { consortiumId, programId } });
  });

  const factCount = Math.max(1, params.events - references.length);
  const dayAt = (index: number) => dayString(Math.floor((Math.max(0, index - references.length) / factCount) * HISTORY_DAYS));
  const random = seededRandom(params.seed);
  const isFact = new Uint8Array(Math.max(params.events, references.length));
  const retracted = new Set<number>();
  let nextIndex = references.length;

  const chooseProgram = (r: () => number): number => {
    const u = r();
    if (params.programs < 3) return Math.floor(u * params.programs);
    if (u < params.hotShare) return 0;
    if (u < 2 * params.hotShare) return 1;
    return 2 + Math.floor(r() * (params.programs - 2));
  };

  const counts: HistoryStats = { facts: 0, busy: 0, late: 0, fuzzy: 0, retractions: 0 };
  const factBody = (r: () => number, frontier: string, serial: number, count = false): EventBody => {
    const p = chooseProgram(r);
    const programId = programIds[p] ?? 'p-00000';
    const m = Math.floor(r() * params.milestones);
    const milestone = milestoneIds[m] ?? 'm-1';
    const late = r() < params.lateShare;
    const day = late ? dayString(Math.max(0, (Date.parse(frontier) - WORLD_START) / DAY_MS - 1 - Math.floor(r() * 60))) : frontier;
    const occurredAt = r() < 0.05 ? quarterOf(day) : day;
    if (count) {
      counts.facts++;
      if (p < 2) counts.busy++;
      if (late) counts.late++;
      if (occurredAt !== day) counts.fuzzy++;
    }
    const sources = r() < 0.5 ? [{ url: `https://news.example/scale/${serial}`, publisher: 'Example News' }] : undefined;
    const consortiumId = isConsortiumScope(m) ? pick(enrolled[p] ?? [], r, 'c-00000') : undefined;
    const type = pick(consortiumId === undefined ? PROGRAM_FACTS : CONSORTIUM_FACTS, r, 'milestone.started');
    const subject = { programId, milestone, ...(consortiumId !== undefined && { consortiumId }) };
    const data: Record<string, unknown> =
      type === 'mou.signed'
        ? { ...subject, parties: ['Ministry of National Defense', consortiumId ?? programId], title: `MOU ${serial}` }
        : type === 'seminar.held'
          ? { ...subject, title: `Seminar ${serial}`, location: 'Daejeon' }
          : type === 'evaluation.held'
            ? { ...subject, outcome: `Evaluation ${serial}` }
            : type.startsWith('pilot.')
              ? subject
              : { ...subject, note: `Fact ${serial}` };
    return { type, occurredAt, data, ...(sources !== undefined && { sources }) };
  };

  const chooseTarget = (before: number): number | undefined => {
    for (let attempt = 0; attempt < 8 && before > references.length; attempt++) {
      const target = references.length + Math.floor(random() * (before - references.length));
      if (isFact[target] === 1 && !retracted.has(target)) return target;
    }
    return undefined;
  };

  const planFacts = (start: number, size: number): PlannedEvent[] => {
    if (start !== nextIndex) throw new Error(`facts must be planned in order: expected ${nextIndex}, got ${start}`);
    nextIndex = start + size;
    return Array.from({ length: size }, (_, i): PlannedEvent => {
      const index = start + i;
      const frontier = dayAt(index);
      if (random() < params.retractShare) {
        const target = chooseTarget(start);
        if (target !== undefined) {
          retracted.add(target);
          counts.retractions++;
          return { kind: 'retraction', target, occurredAt: frontier };
        }
      }
      isFact[index] = 1;
      return { kind: 'body', body: factBody(random, frontier, index, true) };
    });
  };

  const hotConsortium = enrolled[0]?.[0] ?? 'c-00000';
  return {
    references,
    hotPrograms: [programIds[0] ?? 'p-00000', programIds[1] ?? programIds[0] ?? 'p-00000'],
    coldProgram: programIds[Math.floor(params.programs / 2)] ?? 'p-00000',
    hotConsortium,
    milestone: milestoneIds[0] ?? 'm-1',
    planFacts,
    dayAt,
    stats: () => ({ ...counts }),
    sampleFact: (r, day) => factBody(r, day, Math.floor(r() * 1e9)),
  };
}
