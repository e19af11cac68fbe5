import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { buildApp, DEFAULT_LIMITS } from '../../src/app.js';
import { seedAdminKey } from '../../src/services/api-keys.js';
import { openDatabase } from '../../src/store/open-database.js';
import { programRegistered, uniqueId } from '../support/events.js';
import { get, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { matrix } from '../support/views.js';

const t = useTestApp();

/*
 * The views read instants the database writes as JSON text, in the session's time zone. A database
 * whose zone is not UTC must not change an answer: in Europe/Amsterdam before 1937 the offset is
 * +00:19:32, text JavaScript's Date cannot read, so a view of an 1850 milestone failed with a 500.
 */
describe('views on a database whose time zone is not UTC', () => {
  it('answers the instants of a milestone planned in 1850 as they were recorded', async () => {
    const url = t.database.url;
    // On PGlite the service's one session is the test's: the branch below shows the dates, not the zone.
    const opened = url === undefined ? undefined : await openDatabase({ kind: 'postgres', url, poolSize: 2 });
    try {
      if (opened !== undefined && url !== undefined) {
        const { rows } = await sql<{ name: string }>`select current_database() as name`.execute(t.database.db);
        await sql`alter database ${sql.id(rows[0]?.name ?? '')} set timezone = 'Europe/Amsterdam'`.execute(t.database.db);
        // A connection that does not ask for a zone now gets Amsterdam's: the setting took.
        const plain = new pg.Client({ connectionString: url });
        await plain.connect();
        try {
          expect((await plain.query<{ TimeZone: string }>('show timezone')).rows[0]?.TimeZone).toBe('Europe/Amsterdam');
        } finally {
          await plain.end();
        }
        await seedAdminKey(opened.db, TEST_ADMIN_KEY);
      }
      const app =
        opened === undefined ? t.app : await buildApp({ db: opened.db, adminApiKey: TEST_ADMIN_KEY, limits: { ...DEFAULT_LIMITS, rateLimitPerMinute: 1_000_000 } });
      try {
        const programId = uniqueId('tz');
        await record(
          app,
          { ...programRegistered(programId), occurredAt: '1849' },
          { type: 'milestone.planned', occurredAt: '1850-03-01', data: { programId, milestone: 'm-1', title: 'Old', scope: 'program', due: '1851-06' } },
        );
        // Read by the matrix's statement (the milestone's due, the cell's since) and the program page's.
        const [milestone] = (await matrix(app, programId)).milestones;
        expect(milestone?.due).toMatchObject({ value: '1851-06', start: '1851-06-01T00:00:00.000Z', end: '1851-07-01T00:00:00.000Z' });
        expect(milestone?.cells[0]?.since).toMatchObject({ value: '1850-03-01', start: '1850-03-01T00:00:00.000Z', end: '1850-03-02T00:00:00.000Z' });
        const page = await get(app, `/v1/programs/${programId}`);
        expect(page.status).toBe(200);
        expect(page.body).toMatchObject({ registeredAt: { value: '1849', start: '1849-01-01T00:00:00.000Z' } });
      } finally {
        if (app !== t.app) await app.close();
      }
    } finally {
      await opened?.db.destroy();
    }
  });
});
