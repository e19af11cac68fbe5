import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import Fastify from 'fastify';
import { declaredRoutesOf, registerAccessControl, type DeclaredRoute } from '../../src/http/route-access.js';
import type { Db } from '../../src/store/database.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { call, eventsOf, problemOf, record } from '../support/http.js';
import { sampleRequests, type SampleRequest } from '../support/sample-requests.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

const CreatedKey = z.object({ id: z.uuid(), key: z.string(), name: z.string(), role: z.string() });

async function createKey(role: 'reader' | 'writer' | 'admin', name = `${role} key`) {
  const response = await call(t.app, 'POST', '/v1/api-keys', { name, role });
  expect(response.status).toBe(201);
  return CreatedKey.parse(response.body);
}

/**
 * Every table's rows, as a digest: what a request stored. Not the rate-limit counters, which count a
 * refused request against its key as any other (test/http/rate-limit.test.ts).
 */
async function fingerprint(db: Db): Promise<string> {
  const { rows } = await sql<{ name: string; digest: string }>`
    select table_name as name,
           query_to_xml(format('select md5(coalesce(string_agg(t::text, %L order by t::text), %L)) as d from %I t', '|', '', table_name),
                        false, true, '')::text as digest
      from information_schema.tables
     where table_schema = 'public' and table_type = 'BASE TABLE' and table_name <> 'rate_limit_window'
     order by table_name`.execute(db);
  return rows.map((r) => `${r.name}:${r.digest}`).join('\n');
}

type Credential = 'no key' | 'malformed key' | 'revoked key' | 'reader' | 'writer' | 'admin';
const CREDENTIALS: readonly Credential[] = ['no key', 'malformed key', 'revoked key', 'reader', 'writer', 'admin'];
const ROLE_RANK = { reader: 0, writer: 1, admin: 2 } as const;

/**
 * SPEC §8, independently of what the routes declare: outside /v1 is open; keys, subscriptions and
 * their deliveries are admin's alone; otherwise a reader may GET and a writer may also record events.
 */
function accessBySpec(route: DeclaredRoute): 'public' | keyof typeof ROLE_RANK {
  if (!route.url.startsWith('/v1/')) return 'public';
  if (/^\/v1\/(api-keys|subscriptions|deliveries)(\/|$)/.test(route.url)) return 'admin';
  if (route.method === 'GET' || route.method === 'HEAD') return 'reader';
  if (route.method === 'POST' && route.url === '/v1/events') return 'writer';
  return 'admin';
}

function expectedStatus(route: DeclaredRoute, credential: Credential): '2xx' | 401 | 403 {
  const access = accessBySpec(route);
  if (access === 'public') return '2xx';
  if (credential === 'no key' || credential === 'malformed key' || credential === 'revoked key') return 401;
  return ROLE_RANK[credential] >= ROLE_RANK[access] ? '2xx' : 403;
}

let headers: Record<Credential, Record<string, string>>;
let samples: Record<string, SampleRequest>;
let fixtureProgram: string;

beforeAll(async () => {
  const fixture = programWithConsortium('acl');
  fixtureProgram = fixture.programId;
  const [first] = await record(t.app, ...fixture.events);
  if (first === undefined) throw new Error('nothing recorded');
  const revoked = await createKey('reader', 'revoked');
  expect((await call(t.app, 'DELETE', `/v1/api-keys/${revoked.id}`)).status).toBe(200);
  const [reader, writer, admin] = await Promise.all([createKey('reader'), createKey('writer'), createKey('admin')]);
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  headers = {
    'no key': { authorization: '' },
    'malformed key': { authorization: 'Basic dXNlcjpwYXNz' },
    'revoked key': bearer(revoked.key),
    reader: bearer(reader.key),
    writer: bearer(writer.key),
    admin: bearer(admin.key),
  };
  samples = sampleRequests({ ...fixture, eventId: first.id, app: t.app, createKey });
});

describe('access control', () => {
  it('refuses to register a route that declares no access', async () => {
    const bare = Fastify();
    await registerAccessControl(bare, {
      authenticate: async () => Promise.reject(new Error('unused')),
      rateLimitPerMinute: 10,
      countKeyRequest: async () => Promise.reject(new Error('unused')),
    });

    expect(() => bare.get('/v1/undeclared', async () => 'open to all?')).toThrow(/declares no access/);
    expect(() => bare.get('/v1/declared', { config: { access: 'reader' } }, async () => 'keyed')).not.toThrow();
    await bare.close();
  });

  it('has a sample request for every registered route, so the matrix below covers them all', () => {
    const routes = declaredRoutesOf(t.app);
    const missing = routes.filter((r) => samples[`${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`] === undefined);

    expect(routes.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it.each(CREDENTIALS)('answers every route as SPEC §8 gives its role, with %s', async (credential) => {
    const mismatches: string[] = [];

    for (const route of declaredRoutesOf(t.app)) {
      const sample = samples[`${route.method === 'HEAD' ? 'GET' : route.method} ${route.url}`];
      if (sample === undefined) throw new Error(`no sample for ${route.method} ${route.url}`);
      const { url, body } = await sample();
      const before = await fingerprint(t.database.db);
      const method = z.enum(['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE']).parse(route.method);
      const response = await call(t.app, method, url, body, headers[credential]);
      const expected = expectedStatus(route, credential);

      const ok = expected === '2xx' ? response.status >= 200 && response.status < 300 : response.status === expected;
      if (!ok) mismatches.push(`${route.method} ${url}: expected ${expected}, got ${response.status}`);
      if (expected !== '2xx') {
        if (route.method !== 'HEAD') expect(problemOf(response).type).toBe(expected === 401 ? '/problems/unauthorized' : '/problems/forbidden');
        if (expected === 401) expect(response.headers['www-authenticate']).toBe('Bearer');
        expect(await fingerprint(t.database.db), `${route.method} ${url} refused, yet stored something`).toBe(before);
      }
    }

    expect(mismatches).toEqual([]);
  });

  it('names the recording key in every event it records (metadata.actor)', async () => {
    const writer = await createKey('writer', 'newsroom importer');

    const recorded = await call(t.app, 'POST', '/v1/events', seminarHeld(fixtureProgram), { authorization: `Bearer ${writer.key}` });

    expect(recorded.status).toBe(201);
    expect(eventsOf(recorded)[0]?.metadata).toMatchObject({ actor: 'newsroom importer', actorKeyId: writer.id });
  });

  it("answers a created key's Location with the key as listed (never the key itself), and its revocation once revoked", async () => {
    const response = await call(t.app, 'POST', '/v1/api-keys', { name: 'located', role: 'writer' });
    const created = CreatedKey.parse(response.body);
    const location = String(response.headers.location);

    const found = await call(t.app, 'GET', location);
    await call(t.app, 'DELETE', location);
    const revoked = await call(t.app, 'GET', location);
    const unknown = await call(t.app, 'GET', '/v1/api-keys/00000000-0000-4000-8000-000000000000');

    expect(location).toBe(`/v1/api-keys/${created.id}`);
    expect(found).toMatchObject({ status: 200, body: { id: created.id, name: 'located', role: 'writer', revokedAt: null } });
    expect(JSON.stringify(found.body)).not.toContain(created.key);
    expect(revoked).toMatchObject({ status: 200, body: { id: created.id, revokedAt: expect.any(String) } });
    expect(unknown.status).toBe(404);
  });

  it('shows a key once: lists, look-ups and revocations never carry it, and only its hash is stored', async () => {
    const created = await createKey('reader', 'shown once');

    const list = await call(t.app, 'GET', '/v1/api-keys');
    const { rows } = await sql<{ key_hash: string }>`select key_hash from api_key where id = ${created.id}`.execute(t.database.db);

    expect(JSON.stringify(list.body)).not.toContain(created.key);
    expect(JSON.stringify(list.body)).toContain(created.key.slice(0, 8));
    expect(rows[0]?.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.key_hash).not.toContain(created.key);
  });
});
