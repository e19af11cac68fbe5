import { Migrator, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrationProvider } from '../../db/migrations.js';
import { migrateToLatest } from '../../db/migrator.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { record } from '../support/http.js';
import { startTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS, subscribe } from '../support/test-dispatcher.js';

/*
 * The migration that keeps where a delivery's retry schedule began (2026-12-05T00-00-00), on a
 * database with deliveries under way: one queued again by hand and not tried since starts its
 * schedule again, one with attempts cut short counts them out, any other starts where it did.
 */

const RESTART_RETRIES = '2026-12-05T00-00-00_restart_retries_on_requeue';

describe('upgrading to schedule_start', () => {
  it('starts the schedule again for a delivery queued by hand, and counts out the attempts cut short of another', async () => {
    const { app, database, close } = await startTestApp({ webhooks: LOOPBACK_WEBHOOKS });
    try {
      const { db } = database;
      const { programId, events } = programWithConsortium('upgrade-schedule');
      await record(app, ...events);
      const subscriptions = [];
      for (const path of ['/requeued', '/cut-short', '/plain']) {
        subscriptions.push(await subscribe(app, { url: `http://127.0.0.1:9${path}`, topics: ['seminar.held'], filter: { programId } }));
      }
      await record(app, seminarHeld(programId));
      const previous = Object.keys(await migrationProvider.getMigrations())
        .filter((name) => name < RESTART_RETRIES)
        .sort()
        .at(-1);
      expect(previous).toBeDefined();
      const undone = await new Migrator({ db, provider: migrationProvider }).migrateTo(previous ?? '');
      expect(undone.error).toBeUndefined();
      const [requeued, cutShort, plain] = subscriptions.map((s) => s.id);
      // As the service before the migration left them: three attempts each, the first delivery
      // recovered since, the second's last two attempts aborted by a stopping instance.
      await sql`update webhook_delivery set attempt_count = 3, next_trigger = 'recover' where subscription_id = ${requeued}`.execute(db);
      await sql`update webhook_delivery set attempt_count = 3 where subscription_id in (${cutShort}, ${plain})`.execute(db);
      await sql`
        insert into webhook_attempt (delivery_id, attempt_no, trigger, instance, started_at, duration_ms, error_kind)
        select d.id, n, 'scheduled', 'test', now(), 1, case when n > 1 and d.subscription_id = ${cutShort} then 'aborted' else 'http' end
        from webhook_delivery d cross join generate_series(1, 3) n
        where d.subscription_id in (${requeued}, ${cutShort}, ${plain})`.execute(db);

      expect((await migrateToLatest(db)).error).toBeUndefined();

      const { rows } = await sql<{ subscription_id: string; schedule_start: number }>`
        select subscription_id, schedule_start from webhook_delivery where subscription_id in (${requeued}, ${cutShort}, ${plain})`.execute(db);
      const startOf = (id: string | undefined) => rows.find((r) => r.subscription_id === id)?.schedule_start;
      expect([startOf(requeued), startOf(cutShort), startOf(plain)]).toEqual([3, 2, 0]);
    } finally {
      await close();
    }
  });
});
