import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { call, problemOf } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';
import { LOOPBACK_WEBHOOKS } from '../support/test-dispatcher.js';

const t = useTestApp({ webhooks: LOOPBACK_WEBHOOKS });

async function rows(table: 'api_key' | 'subscription'): Promise<number> {
  const { rows: counted } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(t.database.db);
  return counted[0]?.n ?? -1;
}

describe('text the database cannot store (NUL, unpaired surrogates)', () => {
  it.each([
    ['an API key name with NUL', '/v1/api-keys', { name: 'desk\u0000one', role: 'reader' }, 'api_key', '/name'],
    ['an API key name with a lone surrogate', '/v1/api-keys', { name: 'desk \ud800', role: 'reader' }, 'api_key', '/name'],
    ['a subscription description with NUL', '/v1/subscriptions', { url: 'http://127.0.0.1:9/x', topics: ['*'], description: 'a\u0000b' }, 'subscription', '/description'],
    ['a subscription URL with NUL', '/v1/subscriptions', { url: 'http://127.0.0.1:9/x\u0000y', topics: ['*'] }, 'subscription', '/url'],
  ] as const)('refuses %s with 400 naming the field, and stores nothing', async (_name, url, body, table, pointer) => {
    const before = await rows(table);

    const response = await call(t.app, 'POST', url, body);

    expect(response.status).toBe(400);
    expect(problemOf(response).errors?.map((e) => e.pointer)).toContain(pointer);
    expect(await rows(table)).toBe(before);
  });
});

describe("an API key's name: one line of visible text, as it is shown as its events' actor", () => {
  it.each([
    ['a line break', 'ingest\nadmin desk'],
    ['a tab', 'ingest\tdesk'],
    ['a right-to-left override', 'desk \u202eknilb'],
    ['a left-to-right isolate', 'desk \u2066one'],
    ['a C1 control', 'desk\u0085one'],
    ['a line separator', 'ingest\u2028admin'],
    ['a zero-width space', 'ingest\u200b'],
    ['a byte-order mark inside', 'in\ufeffgest'],
  ])('refuses a name with %s with 400 naming the field and saying what a name may hold, and stores nothing (probe of access)', async (_what, name) => {
    const before = await rows('api_key');

    const response = await call(t.app, 'POST', '/v1/api-keys', { name, role: 'reader' });

    expect(response.status).toBe(400);
    expect(problemOf(response).errors).toEqual([expect.objectContaining({ pointer: '/name', detail: expect.stringContaining('one line of visible text') })]);
    expect(await rows('api_key')).toBe(before);
  });

  it('takes a name in any script, with accents and spaces', async () => {
    // The zero-width joiner belongs to the writing of some scripts (Devanagari's क्‍ष) and emoji.
    const response = await call(t.app, 'POST', '/v1/api-keys', { name: '국방 AI 분석팀 · Équipe · क्\u200dष', role: 'reader' });

    expect(response.status).toBe(201);
  });
});
