import { describe, expect, it } from 'vitest';
import { EARLY_BOTH, evaluateTargets, growthOf, type Checkpoint, type ScaleReport, type ViewPoints } from '../support/scale-report.js';

/* The scale benchmark's verdict (npm run bench:scale): a view's c32 target is a ratio to the bare route of its rows. */

const ok = (rps: number) => ({ rps, p50: 1, p99: 2, failed: 0 });
const view: ViewPoints = { name: 'matrix (busy)', path: '/v1/x', status: 200, bytes: 1, c1: ok(100), c32: ok(100), baseline: 'cells' };
const checkpoint = (bare: ViewPoints): Checkpoint => ({
  events: 1,
  eventsAfterAppends: 1,
  cutoffs: { asOf: '', knownAt: '', earlyAsOf: '' },
  views: [view],
  bare: [bare],
  rssIdleMb: 1,
  rssMb: 1,
  appends: [],
  inOrderAppends: { inOrder: ok(1), sampleAfter: ok(1) },
});
const report = (bare: ViewPoints, afterRebuild: ScaleReport['afterRebuild'] = []): ScaleReport => ({
  params: {},
  references: 0,
  history: {},
  load: [],
  small: checkpoint(bare),
  full: checkpoint(bare),
  rebuild: { eventsPerSecond: 1, output: '' },
  afterRebuild,
  growth: [],
  targets: [],
});
const c32Target = (bare: ViewPoints) => evaluateTargets(report(bare)).find((t) => t.what.startsWith('matrix (busy): rps c32'));
const bareCells: ViewPoints = { name: 'cells', path: 'select', status: 200, bytes: 1, c1: ok(300), c32: ok(200) };
const latency = (p50: number) => ({ rps: 1000 / p50, p50, p99: p50, failed: 0 });

describe('scale benchmark targets', () => {
  it('passes a view at half its bare route or more, and fails it below', () => {
    expect(c32Target({ name: 'cells', path: 'select', status: 200, bytes: 1, c1: ok(300), c32: ok(200) })?.pass).toBe(true);
    expect(c32Target({ name: 'cells', path: 'select', status: 200, bytes: 1, c1: ok(300), c32: ok(201) })?.pass).toBe(false);
  });

  it('passes no view against a bare route that failed, wholly or in part, or is missing', () => {
    const failed = { rps: 0, p50: NaN, p99: NaN, failed: 900 };
    expect(c32Target({ name: 'cells', path: 'select', status: 500, bytes: 0, c1: failed, c32: failed })?.pass).toBe(false);
    expect(c32Target({ name: 'cells', path: 'select', status: 200, bytes: 1, c1: ok(300), c32: { rps: 150, p50: 1, p99: 10_000, failed: 400 } })?.pass).toBe(false);
    expect(c32Target({ name: 'something else', path: 'select', status: 200, bytes: 1, c1: ok(300), c32: ok(150) })?.pass).toBe(false);
  });

  it('holds the busy matrix to its targets on the rebuilt tables too, and fails each view the bench could not measure there', () => {
    const rebuilt = (current: number, asOf: number) => [
      { name: 'matrix (busy)', c1: latency(current) },
      { name: 'matrix asOf', c1: latency(asOf) },
      { name: 'matrix knownAt', c1: latency(current) },
      { name: 'matrix asOf+knownAt', c1: latency(current) },
    ];
    const verdict = (afterRebuild: ScaleReport['afterRebuild'], what: string) =>
      evaluateTargets(report(bareCells, afterRebuild)).find((t) => t.what === what)?.pass;
    expect(verdict(rebuilt(4, 7.9), 'matrix asOf after the rebuild: p50 c1 ÷ current matrix')).toBe(true);
    expect(verdict(rebuilt(4, 8.1), 'matrix asOf after the rebuild: p50 c1 ÷ current matrix')).toBe(false);
    expect(verdict(rebuilt(6, 10.5), 'matrix asOf after the rebuild: p50 c1 ms')).toBe(false);
    expect(verdict(rebuilt(6, 9.5), 'matrix asOf after the rebuild: p50 c1 ms')).toBe(true);
    expect(verdict([], 'matrix knownAt after the rebuild: p50 c1 ms')).toBe(false);
    // The search below the newest step believed at K is held to the cut-offs' targets as the others are.
    expect(verdict([], `${EARLY_BOTH} after the rebuild: p50 c1 ms`)).toBe(false);
    expect(verdict([...rebuilt(4, 5), { name: EARLY_BOTH, c1: latency(7.9) }], `${EARLY_BOTH} after the rebuild: p50 c1 ÷ current matrix`)).toBe(true);
    expect(verdict([...rebuilt(4, 5), { name: EARLY_BOTH, c1: latency(8.1) }], `${EARLY_BOTH} after the rebuild: p50 c1 ÷ current matrix`)).toBe(false);
    const failedAsOf = rebuilt(4, 5).map((v) => (v.name === 'matrix asOf' ? { ...v, c1: { ...v.c1, failed: 1 } } : v));
    expect(verdict(failedAsOf, 'matrix asOf after the rebuild: p50 c1 ms')).toBe(false);
    expect(verdict(failedAsOf, 'matrix knownAt after the rebuild: p50 c1 ms')).toBe(true);
    expect(verdict([], 'matrix (busy) after the rebuild: p50 c1 ms')).toBe(false);
  });

  it('holds the matrix at both cut-offs with an early asOf to twice the current matrix at full size', () => {
    const early = (p50: number): ViewPoints => ({ ...view, name: EARLY_BOTH, c1: latency(p50) });
    const verdict = (p50: number) => {
      const base = report(bareCells);
      const full = { ...base.full, views: [view, early(p50)] };
      return evaluateTargets({ ...base, full }).find((t) => t.what === `${EARLY_BOTH}: p50 c1 ÷ current matrix`)?.pass;
    };
    // The current matrix's p50 is 1 ms (view).
    expect(verdict(1.9)).toBe(true);
    expect(verdict(2.1)).toBe(false);
  });

  it('holds a view\'s growth to the median of its side-by-side rounds, and fails it when a round failed or none was measured', () => {
    const round = (small: number, full: number) => ({ small: latency(small), full: latency(full) });
    const verdict = (rounds: { small: ReturnType<typeof latency>; full: ReturnType<typeof latency> }[]) =>
      evaluateTargets({ ...report(bareCells), growth: [{ name: view.name, rounds }] }).find((t) => t.what === 'matrix (busy): p50 c1, full ÷ small, side by side');
    // The small checkpoint's own point (view: 1 ms) is not the baseline: the rounds are.
    expect(verdict([round(2, 2.4), round(2, 3), round(2, 2.2)])).toMatchObject({ value: 1.2, pass: true });
    expect(verdict([round(2, 2.4), round(2, 3), round(2, 2.6)])).toMatchObject({ value: 1.3, pass: false });
    expect(verdict([round(2, 2.2), { small: { ...latency(2), failed: 1 }, full: latency(2.2) }, round(2, 2.2)])?.pass).toBe(false);
    expect(verdict([])?.pass).toBe(false);
    expect(growthOf({ name: 'x', rounds: [round(1, 3), round(1, 1), round(1, 2), round(1, 4)] }).median).toBe(2);
  });
});
