import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/database.js';
import { bearer, TEST_ADMIN_KEY } from '../support/http.js';
import { openSse } from '../support/sse.js';
import { onEachStatement } from '../support/statement-hook.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A client may leave while its feed's handler still awaits the database (the key, the rate limit,
 * `after=now`'s snapshot, the first page). Node tells a response it closed once: a feed that began
 * listening only after that must still end, or it polls and holds its key's place until shutdown.
 */

/** Holds the next read of the feed's starting snapshot until released. */
function snapshotGate() {
  let armed: { reached: () => void; release: Promise<void> } | undefined;
  const wrap = (db: Db): Db =>
    onEachStatement(db, async (query) => {
      if (armed === undefined || !query.sql.includes('pg_current_snapshot()')) return;
      const { reached, release } = armed;
      armed = undefined;
      reached();
      await release;
    });
  const arm = () => {
    let open = (): void => undefined;
    const release = new Promise<void>((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (armed = { reached: resolve, release }));
    return { reached, open };
  };
  return { wrap, arm };
}

const gate = snapshotGate();
const t = useTestApp({ wrapDb: gate.wrap, limits: { maxFeedsPerKey: 1 } });
beforeAll(async () => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
});

describe('GET /v1/feed, a client gone before its feed starts', () => {
  it("ends that feed, freeing the key's only place for its next feed", async () => {
    const address: AddressInfo | string | null = t.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the app is not listening on TCP');
    const { reached, open } = gate.arm();
    const gone = request({ host: '127.0.0.1', port: address.port, path: '/v1/feed?after=now', headers: bearer(TEST_ADMIN_KEY) });
    gone.on('error', () => undefined);
    gone.end();

    await reached;
    gone.destroy();
    // The server hears of the closed socket while the handler still waits for its snapshot.
    await sleep(300);
    open();

    // One feed a key: had the first one stayed open, every later one would be refused, 429.
    await expect
      .poll(
        async () => {
          const next = await openSse(t.app, '/v1/feed');
          next.destroy();
          return next.status;
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(200);
  });
});
