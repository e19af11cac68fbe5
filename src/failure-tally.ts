/**
 * A run of failures told without telling each one. A counter table locked for ten seconds had every
 * request of the instance log an error, and a database away had the webhook dispatcher log one at
 * every poll, a line a second for as long as the outage lasted. The first failure of a run is told at
 * once; those after it, with how many they were, once `intervalMs` has passed since the last telling,
 * so that each run is told whole and when it happened (not with the next run's first, minutes later
 * or never); and, where `tellRecovered` is given, the run's end: the first success `intervalMs` or
 * more after its last failure. A success sooner does not end it, so that a database failing every
 * other statement is told at most twice an interval, not twice a failure (the review of the day).
 */
export interface FailureTally {
  failed(error: unknown): void;
  succeeded(): void;
  /** Tells what is pending now: at shutdown. */
  close(): void;
}

export interface FailureTallyOptions {
  readonly intervalMs: number;
  /** `failures`: how many since the last telling; `lastError`: the latest of them. */
  tellFailures(failures: number, lastError: unknown): void;
  /** `failures`: the whole run's; `failingMs`: from its first failure to its last. */
  tellRecovered?(failures: number, failingMs: number): void;
}

export function createFailureTally(options: FailureTallyOptions): FailureTally {
  let pending = 0;
  let lastError: unknown;
  let toldAt = -Infinity;
  let tellSoon: NodeJS.Timeout | undefined;
  let run: { readonly startedAt: number; lastFailedAt: number; failures: number } | undefined;
  const tell = () => {
    if (tellSoon !== undefined) clearTimeout(tellSoon);
    tellSoon = undefined;
    if (pending === 0) return;
    options.tellFailures(pending, lastError);
    pending = 0;
    toldAt = performance.now();
  };
  return {
    failed(error) {
      pending += 1;
      lastError = error;
      run ??= { startedAt: performance.now(), lastFailedAt: 0, failures: 0 };
      run.failures += 1;
      run.lastFailedAt = performance.now();
      const sinceTold = performance.now() - toldAt;
      if (sinceTold >= options.intervalMs) tell();
      else tellSoon ??= setTimeout(tell, options.intervalMs - sinceTold).unref();
    },
    succeeded() {
      if (run === undefined || performance.now() - run.lastFailedAt < options.intervalMs) return;
      const ended = run;
      run = undefined;
      tell();
      options.tellRecovered?.(ended.failures, ended.lastFailedAt - ended.startedAt);
    },
    close: tell,
  };
}
