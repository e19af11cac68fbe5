import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { milestonePlanned, programRegistered, programWithConsortium, seminarHeld, uniqueId } from '../support/events.js';
import { call, post, record } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, subscribe } from '../support/test-dispatcher.js';
import { countEvents } from '../support/event-count.js';

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

describe('fan-out beside subscription changes', () => {
  it("makes a stream's deliveries due in the order of its versions, though the append of the later one began first and waited for a lock (PostgreSQL server only)", async () => {
    if (!t.database.concurrentTransactions) {
      expect(t.database.url).toBeUndefined();
      return;
    }
    const programId = uniqueId('order');
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'm-1', 'program', '2030'), milestonePlanned(programId, 'm-2', 'program', '2030'));
    const { id } = await subscribe(t.app, { url: 'http://127.0.0.1:9/never', topics: ['seminar.held'], filter: { programId }, maxInFlight: 1 });
    // Another session holds m-1's cell lock (lock_projection.sql): the append of a fact on m-1 begins,
    // and waits; one on m-2, begun after it, takes the program's stream first.
    let first: ReturnType<typeof post> | undefined;
    await t.database.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`cell/${programId}/m-1/`}, 0))`.execute(trx);
      first = post(t.app, { type: 'seminar.held', occurredAt: '2026-05', data: { programId, milestone: 'm-1', title: 'first begun' } });
      await expect
        .poll(async () => {
          const { rows } = await sql<{ n: number }>`
            select count(*)::int as n from pg_locks l
            where l.locktype = 'advisory' and not l.granted
              and l.database = (select oid from pg_database where datname = current_database())
              and l.objid = (hashtextextended(${`cell/${programId}/m-1/`}, 0) & 4294967295)::oid`.execute(t.database.db);
          return rows[0]?.n;
        })
        .toBeGreaterThan(0);
      expect((await post(t.app, { type: 'seminar.held', occurredAt: '2026-05', data: { programId, milestone: 'm-2', title: 'second begun' } })).status).toBe(201);
    });
    expect((await first)?.status).toBe(201);

    // The order workers take them in (webhook-deliveries.ts): by when due, then by position.
    const { rows } = await sql<{ title: string; version: number }>`
      select e.data ->> 'title' as title, e.stream_version as version
      from webhook_delivery d join notification n on n.id = d.notification_id join event e on e.id = n.event_id
      where d.subscription_id = ${id}
      order by d.next_attempt_at, d.notification_position`.execute(t.database.db);
    expect(rows.map((r) => r.title)).toEqual(['second begun', 'first begun']);
    expect(rows.map((r) => r.version)).toEqual([...rows.map((r) => r.version)].sort((a, b) => a - b));
  });

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
