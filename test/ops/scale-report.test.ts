import { describe, expect, it } from 'vitest';
import { evaluateTargets, type Checkpoint, type ScaleReport, type ViewPoints } from '../support/scale-report.js';

/* The scale benchmark's verdict (npm run bench:scale): a view's c32 target is a ratio to the bare route of its rows. */

const ok = (rps: number) => ({ rps, p50: 1, p99: 2, failed: 0 });
const view: ViewPoints = { name: 'matrix (busy)', path: '/v1/x', status: 200, bytes: 1, c1: ok(100), c32: ok(100), baseline: 'cells' };
const checkpoint = (bare: ViewPoints): Checkpoint => ({
  events: 1,
  eventsAfterAppends: 1,
  cutoffs: { asOf: '', knownAt: '' },
  views: [view],
  bare: [bare],
  rssIdleMb: 1,
  rssMb: 1,
  appends: [],
});
const c32Target = (bare: ViewPoints) =>
  evaluateTargets({
    params: {},
    references: 0,
    history: {},
    load: [],
    small: checkpoint(bare),
    full: checkpoint(bare),
    rebuild: { eventsPerSecond: 1, output: '' },
    targets: [],
  } satisfies ScaleReport).find((t) => t.what.startsWith('matrix (busy): rps c32'));

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
});
