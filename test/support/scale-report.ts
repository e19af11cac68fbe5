import type { BucketRate } from './scale-load.js';
import type { HttpPoint } from './scale-points.js';
import type { VacuumStats } from './scale-vacuum.js';

/* The scale benchmark's report: its figures, the targets of issue 9 as ratios, and their tables. */

export interface ViewPoints {
  readonly name: string;
  readonly path: string;
  /** Status and size of one answer before the load. */
  readonly status: number;
  readonly bytes: number;
  readonly c1: HttpPoint;
  readonly c32: HttpPoint;
  /** A view's bare query of the rows it shows, by name (Checkpoint.bare); none for a bare point itself. */
  readonly baseline?: string;
  /**
   * That bare query at c32, measured right after the view: the baseline of its c32 ratio. The
   * machine's speed drifts over the minutes between a view and the bare routes' own points.
   */
  readonly bareC32?: HttpPoint;
}

/** A view measured at c1 only, after the rebuild (scale-bench.ts, measureAfterRebuild). */
export interface RebuiltView {
  readonly name: string;
  readonly c1: HttpPoint;
}

/** A view at c1 on the full history and on a copy of the small checkpoint, in alternating rounds (scale-growth.ts). */
export interface GrowthPoint {
  readonly name: string;
  readonly rounds: readonly { readonly small: HttpPoint; readonly full: HttpPoint }[];
}

/** Full ÷ small p50 of each round, and the median of those: NaN if a round failed, or none was measured. */
export function growthOf(point: GrowthPoint | undefined): { ratios: number[]; median: number } {
  const ratios = (point?.rounds ?? []).map((r) => (r.small.failed + r.full.failed > 0 ? NaN : r.full.p50 / r.small.p50));
  const sorted = [...ratios].sort((a, b) => a - b);
  const median = ratios.some((r) => Number.isNaN(r)) ? NaN : (sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN);
  return { ratios, median };
}

export interface AppendPoint {
  readonly concurrency: number;
  readonly http: HttpPoint;
  readonly pg: HttpPoint;
}

export interface Checkpoint {
  /** Rows in the event table when the views were measured. */
  readonly events: number;
  readonly eventsAfterAppends: number;
  readonly cutoffs: Cutoffs;
  readonly views: readonly ViewPoints[];
  /** The bare routes, each one indexed SELECT; `path` holds its SQL. */
  readonly bare: readonly ViewPoints[];
  /** The service's VmRSS just before the views were measured, and the largest while they were. */
  readonly rssIdleMb: number;
  readonly rssMb: number;
  readonly appends: readonly AppendPoint[];
  readonly inOrderAppends: InOrderAppends;
}

/**
 * After the c8 point, single appends at c8 of the sample's facts in world-time order only (not
 * late, not dated by a quarter), then of the whole sample again: side by side, what its late facts
 * cost, neither round right after the INSERTs' (as the c8 point is). No target. At the small
 * checkpoint the frontier is the history's first day, where late days are clamped: nothing there is
 * late, and the two measure the same kind of facts.
 */
export interface InOrderAppends {
  readonly inOrder: HttpPoint;
  readonly sampleAfter: HttpPoint;
}

export interface Target {
  readonly what: string;
  readonly value: number;
  readonly limit: string;
  readonly pass: boolean;
}

export interface ScaleReport {
  readonly params: Readonly<Record<string, number>>;
  readonly references: number;
  readonly history: Readonly<Record<string, number>>;
  readonly load: readonly BucketRate[];
  readonly small: Checkpoint;
  readonly full: Checkpoint;
  readonly rebuild: { readonly eventsPerSecond: number; readonly output: string };
  /** The busy matrix, current and at the full checkpoint's cut-offs, on the rebuilt tables; none if the rebuild failed. */
  readonly afterRebuild: readonly RebuiltView[];
  /** Each view beside its copy at the small checkpoint, at the full checkpoint's minutes (GrowthPoint). */
  readonly growth: readonly GrowthPoint[];
  /** What the bench's stand-in for autovacuum did (test/support/scale-vacuum.ts); absent where autovacuum is on. */
  readonly vacuum?: VacuumStats | undefined;
  readonly targets: readonly Target[];
}

const atLeast = (what: string, value: number, limit: number): Target => ({ what, value, limit: `≥ ${limit}`, pass: value >= limit });
const atMost = (what: string, value: number, limit: number): Target => ({ what, value, limit: `≤ ${limit}`, pass: value <= limit });
const appendAt = (c: Checkpoint, concurrency: number) => c.appends.find((a) => a.concurrency === concurrency);
/** The current matrix of the busy program, and the same at the cut-offs: each ≤ 2 × it. */
export const CURRENT_MATRIX = 'matrix (busy)';
/**
 * The busy matrix at both cut-offs with the asOf a quarter of the way through the facts loaded and
 * K at the middle: months of news after the asOf have come by K for every busy cell, so its state
 * is searched for below the newest step believed at K (src/store/cell-states.ts, stateAt), as for
 * an analyst's question about a busy program long before K. The middle asOf is about K's own
 * frontier in world time, where the newest step may itself be the state and the search not run.
 */
export const EARLY_BOTH = 'matrix early asOf+knownAt';
export const CUT_VIEWS: readonly string[] = ['matrix asOf', 'matrix knownAt', 'matrix asOf+knownAt', EARLY_BOTH];

/** A checkpoint's cut-offs (scale-bench.ts, measureViews). */
export interface Cutoffs {
  readonly asOf: string;
  readonly knownAt: string;
  readonly earlyAsOf: string;
}

/** Issue 9's targets; a missing or failed measurement gives NaN, which fails. */
export function evaluateTargets(report: ScaleReport): Target[] {
  const { small, full } = report;
  const fullC8 = appendAt(full, 8);
  const smallC8 = appendAt(small, 8);
  // Whole buckets only, and at least two of them: one bucket compared with itself says nothing.
  const whole = report.load.filter((b) => !b.partial);
  const first = whole.length >= 2 ? (whole[0]?.eventsPerSecond ?? NaN) : NaN;
  const last = whole.length >= 2 ? (whole.at(-1)?.eventsPerSecond ?? NaN) : NaN;
  const targets: Target[] = [
    atLeast('single append c8 ÷ plain pg INSERT c8, full size', (fullC8?.http.rps ?? NaN) / (fullC8?.pg.rps ?? NaN), 0.3),
    atLeast('single append c8, full size ÷ small', (fullC8?.http.rps ?? NaN) / (smallC8?.http.rps ?? NaN), 0.8),
    atLeast(`batch load rate, last ÷ first whole bucket (${whole.length} whole buckets)`, last / first, 0.7),
  ];
  const current = full.views.find((v) => v.name === CURRENT_MATRIX);
  for (const view of full.views) {
    const broken = view.c1.failed + view.c32.failed > 0 || view.status !== 200;
    const p50 = broken ? NaN : view.c1.p50;
    targets.push(atMost(`${view.name}: p50 c1 ms, full size`, p50, 10));
    const growth = growthOf(report.growth.find((g) => g.name === view.name)).median;
    targets.push(atMost(`${view.name}: p50 c1, full ÷ small, side by side`, broken ? NaN : growth, 1.25));
    // A baseline that failed, even in part, measured less than its SELECT can do: no ratio to it.
    // The one measured right after the view, if there is one (reports older than bareC32 have none).
    const bare = full.bare.find((b) => b.name === view.baseline);
    const bareC32 = view.bareC32 ?? bare?.c32;
    const bareRps = bare === undefined || bareC32 === undefined || bare.status !== 200 || bare.c1.failed + bareC32.failed > 0 ? NaN : bareC32.rps;
    targets.push(atLeast(`${view.name}: rps c32 ÷ bare SELECT of its rows`, (broken ? NaN : view.c32.rps) / bareRps, 0.5));
    if (CUT_VIEWS.includes(view.name)) targets.push(atMost(`${view.name}: p50 c1 ÷ current matrix`, p50 / (current?.c1.p50 ?? NaN), 2));
  }
  targets.push(atLeast('rebuild events/s', report.rebuild.eventsPerSecond, 50_000));
  // The same views on the rebuilt tables: every one of them, or NaN for those missing.
  const rebuilt = (name: string) => {
    const point = report.afterRebuild.find((v) => v.name === name);
    return point === undefined || point.c1.failed > 0 ? NaN : point.c1.p50;
  };
  const rebuiltCurrent = rebuilt(CURRENT_MATRIX);
  targets.push(atMost(`${CURRENT_MATRIX} after the rebuild: p50 c1 ms`, rebuiltCurrent, 10));
  for (const name of CUT_VIEWS) {
    targets.push(atMost(`${name} after the rebuild: p50 c1 ms`, rebuilt(name), 10));
    targets.push(atMost(`${name} after the rebuild: p50 c1 ÷ current matrix`, rebuilt(name) / rebuiltCurrent, 2));
  }
  targets.push(atMost('service RSS MB under the read load, full size', full.rssMb, 250));
  return targets;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const dec = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(0)) : 'n/a');
const point = (p: HttpPoint) => `${dec(p.rps, p.rps < 100 ? 1 : 0)} | ${ms(p.p50)} | ${ms(p.p99)}${p.failed > 0 ? ` (${p.failed} failed)` : ''}`;

export function printReport(report: ScaleReport): void {
  const { small, full } = report;
  const out = (line = '') => console.log(line);
  out(`\nscale benchmark: ${JSON.stringify(report.params)}`);
  out(`history: ${report.references} reference events; facts ${JSON.stringify(report.history)}`);
  out(`views at ${int(small.events)} and ${int(full.events)} rows in the event table`);
  const cuts = (c: Cutoffs) => `asOf=${c.asOf} (early ${c.earlyAsOf}) knownAt=${c.knownAt}`;
  out(`cut-offs: small ${cuts(small.cutoffs)}; full ${cuts(full.cutoffs)}`);

  out('\nbatch load (POST /v1/events, batches of events, load clock stopped during measurements)\n');
  out('| batch-loaded events | events/s in this bucket |');
  out('| ---: | ---: |');
  for (const b of report.load) out(`| ${int(b.upTo)}${b.partial ? ' (partial)' : ''} | ${int(b.eventsPerSecond)} |`);

  out('\nsingle milestone-fact appends beside plain pg INSERTs of the same rows (latencies in ms)\n');
  out('| rows | c | HTTP POST /v1/events req/s | p50 | p99 | plain pg INSERT rows/s | p50 | p99 | ratio |');
  out('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const c of [small, full]) {
    for (const a of c.appends) out(`| ${int(c.events)} | ${a.concurrency} | ${point(a.http)} | ${point(a.pg)} | ${dec(a.http.rps / a.pg.rps)} |`);
    const c8 = appendAt(c, 8);
    if (c8 !== undefined) {
      const { inOrder, sampleAfter } = c.inOrderAppends;
      out(`| ${int(c.events)} | 8, in world-time order only, after it | ${point(inOrder)} | ${point(c8.pg)} | ${dec(inOrder.rps / c8.pg.rps)} |`);
      out(`| ${int(c.events)} | 8, the sample again, after that | ${point(sampleAfter)} | ${point(c8.pg)} | ${dec(sampleAfter.rps / c8.pg.rps)} |`);
    }
  }

  out('\nviews at c1 and c32, small and full size (latencies in ms), then the bare routes (one SELECT each, served by a process of their own)\n');
  const head = ['small c1', 'small c32', 'full c1', 'full c32'].map((h) => `${h} req/s | p50 | p99`).join(' | ');
  out(`| view | answer (small → full) | ${head} |`);
  out(`| --- | --- |${' ---: |'.repeat(12)}`);
  const rows = [...full.views.map((v) => ({ v, s: small.views.find((x) => x.name === v.name) })), ...full.bare.map((v) => ({ v, s: small.bare.find((x) => x.name === v.name) }))];
  for (const { v, s } of rows) {
    const size = `${s?.status ?? '?'} ${int(s?.bytes ?? NaN)} B → ${v.status} ${int(v.bytes)} B`;
    const beside = v.bareC32 === undefined ? '' : `; it at c32 right after: ${v.bareC32.rps.toFixed(0)}/s`;
    const name = v.baseline === undefined ? `bare: ${v.name} (\`${v.path}\`)` : `${v.name} (beside: ${v.baseline}${beside})`;
    out(`| ${name} | ${size} | ${s === undefined ? 'n/a' : point(s.c1)} | ${s === undefined ? 'n/a' : point(s.c32)} | ${point(v.c1)} | ${point(v.c32)} |`);
  }
  out(
    report.vacuum === undefined
      ? '\nautovacuum: on, left to the server'
      : `\nautovacuum: off on this server; the bench's stand-in ran ${report.vacuum.vacuums} vacuums and ${report.vacuum.analyzes} analyzes, ${dec(report.vacuum.seconds, 0)} s in all`,
  );
  out(`\nservice VmRSS before → largest while the views were measured: small ${dec(small.rssIdleMb, 0)} → ${dec(small.rssMb, 0)} MB, full ${dec(full.rssIdleMb, 0)} → ${dec(full.rssMb, 0)} MB`);
  out(`rebuild (npm run projections:rebuild): ${report.rebuild.output}`);
  out('\nthe busy matrix at c1 on the full checkpoint and again on the rebuilt tables (p50 ms)\n');
  out('| view | full size | after the rebuild |');
  out('| --- | ---: | ---: |');
  for (const v of report.afterRebuild) out(`| ${v.name} | ${ms(full.views.find((x) => x.name === v.name)?.c1.p50 ?? NaN)} | ${ms(v.c1.p50)} |`);
  if (report.afterRebuild.length === 0) out('| not measured: the rebuild failed, or the measurement did (the log says which) | | |');

  out('\neach view at c1 on the full history and on a copy of the small checkpoint, in alternating rounds (p50 ms; full ÷ small each round)\n');
  out('| view | small at its checkpoint | small, side by side | full, side by side | full ÷ small | median |');
  out('| --- | ---: | --- | --- | --- | ---: |');
  for (const g of report.growth) {
    const { ratios, median } = growthOf(g);
    const p50s = (side: 'small' | 'full') => g.rounds.map((r) => ms(r[side].p50)).join(', ');
    const atCheckpoint = small.views.find((v) => v.name === g.name)?.c1.p50 ?? NaN;
    out(`| ${g.name} | ${ms(atCheckpoint)} | ${p50s('small')} | ${p50s('full')} | ${ratios.map((r) => dec(r)).join(', ')} | ${dec(median)} |`);
  }
  if (report.growth.length === 0) out('| not measured (the log says why) | | | | | |');

  out('\ntargets (issue 9)\n');
  out('| target | value | limit | result |');
  out('| --- | ---: | --- | --- |');
  for (const t of report.targets) out(`| ${t.what} | ${dec(t.value)} | ${t.limit} | ${t.pass ? 'PASS' : 'FAIL'} |`);
  const passed = report.targets.filter((t) => t.pass).length;
  out(`\n${passed} of ${report.targets.length} targets pass`);
}
