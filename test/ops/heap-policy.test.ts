import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

/*
 * The service bounds how much garbage V8 keeps beside its live data (src/heap-policy.ts), through a
 * V8 flag that a newer Node could rename or drop without a word. The same allocation pattern runs
 * in two fresh processes, with and without the policy: with it, the old generation must stay within
 * a few times its live data and well below what V8 keeps by default.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = 'test/ops/fixtures/heap-growth.ts';
const Report = z.object({ peak: z.number(), live: z.number(), kept: z.number() });

async function oldGeneration(...args: string[]): Promise<z.infer<typeof Report>> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', FIXTURE, ...args], { cwd: ROOT });
  return Report.parse(JSON.parse(stdout));
}

describe('heap policy', () => {
  it('keeps the old generation within a few times its live data, where V8 alone keeps eight', { timeout: 60_000 }, async () => {
    const [byDefault, limited] = await Promise.all([oldGeneration(), oldGeneration('policy')]);
    expect(limited.kept).toBe(400_000);
    expect(limited.peak / limited.live, JSON.stringify({ byDefault, limited })).toBeLessThan(4);
    expect(limited.peak, JSON.stringify({ byDefault, limited })).toBeLessThan(byDefault.peak * 0.6);
  });
});
