import { getHeapSpaceStatistics } from 'node:v8';
import { limitHeapGrowth } from '../../src/heap-policy.js';

/*
 * Run by test/heap-policy.test.ts in a fresh process. `policy` applies the heap policy at 50 %.
 * It keeps about 62 MB alive (old space after a full collection) and allocates garbage that lives
 * long enough to reach the old
 * generation (a ring of the latest 200 batches, as requests in flight are), then prints what the
 * policy reported, the largest old space V8 committed meanwhile, and what the old space holds after
 * a full collection at the end.
 */
const outcome = process.argv.includes('policy') ? limitHeapGrowth(50, []) : 'left to V8';
const live = Array.from({ length: 400_000 }, (_, i) => ({ i, s: `live-${i}` }));
const ring: unknown[] = new Array<unknown>(200).fill(null);
let peak = 0;
for (let round = 0; round < 4000; round++) {
  ring[round % ring.length] = Array.from({ length: 1000 }, (_, i) => ({ i, s: `garbage-${round}-${i}` }));
  if (round % 10 === 0) peak = Math.max(peak, getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_size ?? 0);
}
// What the old space holds once garbage is collected: what the load keeps alive.
if (globalThis.gc === undefined) throw new Error('run with --expose-gc');
globalThis.gc();
const alive = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
// `kept` uses what was kept alive, so that it is alive to the end.
process.stdout.write(JSON.stringify({ outcome, peak, alive, kept: live.length + ring.length }));
