import { measureGet, type GetTarget } from './scale-points.js';
import type { GrowthPoint } from './scale-report.js';

/*
 * The scale benchmark's growth targets, measured side by side: each view at c1 on the full history
 * and on a copy of the small checkpoint's database, each served by a service of its own, in
 * alternating rounds of the same minutes. The small checkpoint's own point was taken twenty
 * minutes and a million appends before the full one's, by a service seconds old (README, "Scale
 * benchmark", says what the pairs change and what they do not).
 */

/** A view on both sides: the full history, and the small checkpoint's copy at its own cut-offs. */
export interface GrowthPair {
  readonly name: string;
  readonly full: GetTarget;
  readonly small: GetTarget;
}

export interface GrowthOptions {
  readonly rounds: number;
  /** Per side a round. */
  readonly seconds: number;
  /** Every view on both sides before any is measured: the services are new. */
  readonly warmupSeconds: number;
  /** Each view on both sides again right before its rounds. */
  readonly viewWarmupSeconds: number;
  readonly timeoutSeconds: number;
  readonly log: (line: string) => void;
}

/**
 * Measures each pair. Both sides are warmed up alike first, all views: a service just started
 * answers more slowly over its first thousand or so requests (README). The side measured first
 * alternates from round to round, so that neither always follows the other.
 */
export async function measureGrowth(pairs: readonly GrowthPair[], options: GrowthOptions): Promise<GrowthPoint[]> {
  const { rounds: count, seconds, warmupSeconds, viewWarmupSeconds, timeoutSeconds, log } = options;
  for (const [index, pair] of pairs.entries()) {
    const sides = index % 2 === 0 ? [pair.full, pair.small] : [pair.small, pair.full];
    for (const side of sides) await measureGet(side, 1, warmupSeconds, timeoutSeconds);
  }
  const points: GrowthPoint[] = [];
  for (const { name, full, small } of pairs) {
    if (viewWarmupSeconds > 0) {
      await measureGet(full, 1, viewWarmupSeconds, timeoutSeconds);
      await measureGet(small, 1, viewWarmupSeconds, timeoutSeconds);
    }
    const rounds: GrowthPoint['rounds'][number][] = [];
    for (let round = 0; round < count; round++) {
      if (round % 2 === 0) {
        const fullPoint = await measureGet(full, 1, seconds, timeoutSeconds);
        rounds.push({ full: fullPoint, small: await measureGet(small, 1, seconds, timeoutSeconds) });
      } else {
        const smallPoint = await measureGet(small, 1, seconds, timeoutSeconds);
        rounds.push({ small: smallPoint, full: await measureGet(full, 1, seconds, timeoutSeconds) });
      }
    }
    points.push({ name, rounds });
    const p50s = (side: 'small' | 'full') => rounds.map((r) => r[side].p50.toFixed(2)).join(', ');
    log(`side by side, ${name}: p50 small ${p50s('small')}; full ${p50s('full')} ms`);
  }
  return points;
}
