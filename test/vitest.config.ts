import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // expect.poll waits for what must come to pass, not for how soon: vitest's default of 1 s failed
    // a board test whose page took longer to read on a loaded machine (2026-12-06, run beside probes).
    expect: { poll: { timeout: 10_000 } },
  },
});
