import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { call, post, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, subscribe } from '../support/test-dispatcher.js';
import { countEvents } from '../support/event-count.js';

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

describe('fan-out beside subscription changes', () => {
  it('records an event while its subscription is being deleted: the append waits, stores, and fans out to no one', async () => {
    const { programId, events } = programWithConsortium('del');
    await record(t.app, ...events);
    const { id } = await subscribe(t.app, { url: 'http://127.0.0.1:9/never', topics: ['seminar.held'], filter: { programId } });
    const before = await countEvents(t.database.db);

    let appended: Awaited<ReturnType<typeof post>> | undefined;
    if (t.database.concurrentTransactions) {
      // The delete holds its row lock while the append fans out to that subscription; the append is
      // handed out of the transaction unawaited (wrapped), since it can only finish once the delete commits.
      const { appending } = await t.database.db.transaction().execute(async (trx) => {
        await sql`delete from subscription where id = ${id}`.execute(trx);
        const pending = post(t.app, seminarHeld(programId));
        await new Promise((resolve) => setTimeout(resolve, 200));
        return { appending: pending };
      });
      appended = await appending;
    } else {
      // One connection at a time (PGlite): the race cannot arise; the delete simply comes first.
      expect((await call(t.app, 'DELETE', `/v1/subscriptions/${id}`)).status).toBe(204);
      appended = await post(t.app, seminarHeld(programId));
    }

    expect(appended?.status).toBe(201);
    expect(await countEvents(t.database.db)).toBe(before + 1);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from webhook_delivery where subscription_id = ${id}`.execute(t.database.db);
    expect(rows).toEqual([{ n: 0 }]);
  });
});
