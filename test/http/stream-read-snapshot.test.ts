import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Db } from '../../src/store/database.js';
import { programRegistered, seminarHeld, uniqueId } from '../support/events.js';
import { get, record } from '../support/http.js';
import { onEachStatement } from '../support/statement-hook.js';
import { useTestApp } from '../support/test-app.js';

/*
 * A stream's page tells the stream's version, which a writer passes on as expectedVersion. Read in
 * another snapshot than the page, an append committed between the two would make the version
 * newer than an empty page (the writer would pass over events it has not seen) or older than a
 * full one (the writer would get a 409 for nothing).
 */

/** After the next read of a stream's events, before its result returns, runs `between`. */
function afterStreamRead() {
  let between: (() => Promise<void>) | undefined;
  const wrap = (db: Db): Db =>
    onEachStatement(db, async (query) => {
      if (between === undefined || !query.sql.includes('"stream_version" >=')) return;
      const step = between;
      between = undefined;
      await step();
    });
  return { wrap, arm: (step: () => Promise<void>) => (between = step) };
}

const race = afterStreamRead();
const t = useTestApp({ wrapDb: race.wrap });
const StreamPage = z.object({ version: z.int(), events: z.array(z.object({ streamVersion: z.int(), data: z.record(z.string(), z.unknown()) })) });

describe('GET /v1/streams/{stream}/events, an append between its reads', () => {
  it('answers an empty page at the version the stream had then, or the appended events with their version, never a version ahead of its events (PostgreSQL server only: PGlite runs one statement at a time)', async () => {
    const programId = uniqueId('snap');
    await record(t.app, programRegistered(programId));
    if (t.database.concurrentTransactions) {
      race.arm(async () => {
        await record(t.app, seminarHeld(programId, 'between the reads'));
      });
    }

    const page = StreamPage.parse((await get(t.app, `/v1/streams/program:${programId}/events?fromVersion=2`)).body);

    const seen = page.events.map((e) => e.streamVersion);
    expect(page.version).toBe(seen.at(-1) ?? 1);
    if (t.database.concurrentTransactions) expect(page.events.map((e) => e.data.title)).toEqual(['between the reads']);
  });
});
