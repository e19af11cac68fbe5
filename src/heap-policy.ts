import { cachedDataVersionTag, setFlagsFromString } from 'node:v8';

/*
 * How far V8 lets the old generation grow past what its last full collection left alive (plus
 * the young generation) before it collects again. V8 picks that factor so as to spend about 3 % of
 * the time collecting; while a process allocates fast against V8's marking speed, as the service
 * does under load, that is its cap: 4 where the heap limit is 2 GB or more (hosts or containers
 * with 4 GB and up), 1.3 to 2 below. On the development machine, a 60k history read at 32 clients
 * put the process's RSS near 280 MB while a full collection left about 45 MB alive; with a factor
 * of 1.5 (HEAP_GROWING_PERCENT=50, the default) it stood at 166–171 MB.
 *
 * The flag replaces V8's factor rather than capping it: where V8 would choose less than 1.5 (a
 * small container, a heap near its limit) the heap grows by 1.5 instead, up to the limit, which
 * the flag does not change. HEAP_GROWING_PERCENT=0 leaves V8's choice, and a
 * --heap-growing-percent given to node itself is left as it is.
 */

export type HeapPolicyOutcome = 'applied' | 'left to V8' | 'left to the command line' | 'unknown to V8';

/**
 * Sets the policy for this process. Node leaves V8's flags writable for v8.setFlagsFromString
 * (src/node.cc: --no-freeze-flags-after-init), and V8 reads this one each time a full collection
 * sets the next limit, so it holds from the next collection on. A V8 that no longer knows the flag
 * prints "unrecognized flag" and goes on; V8's flag hash (cachedDataVersionTag), which covers every
 * flag not at its default, then stays as it was, and the caller is told so.
 */
export function limitHeapGrowth(percent: number, execArgv: readonly string[] = process.execArgv): HeapPolicyOutcome {
  if (percent === 0) return 'left to V8';
  if (execArgv.some((arg) => /^--?heap[-_]growing[-_]percent(?:=|$)/.test(arg))) return 'left to the command line';
  const before = cachedDataVersionTag();
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return cachedDataVersionTag() === before ? 'unknown to V8' : 'applied';
}
