import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LOGGER_OPTIONS } from '../../src/http/logger-options.js';
import { programWithConsortium, seminarHeld } from '../support/events.js';
import { call, record, TEST_ADMIN_KEY } from '../support/http.js';
import { useTestApp } from '../support/test-app.js';

/** Every line the app logs, raw, as pino wrote it. */
const written: string[] = [];
const t = useTestApp({ logger: { ...LOGGER_OPTIONS, level: 'info', stream: { write: (line) => written.push(line) } } });

/** A public IP literal: vetted without DNS, and allowed by the default webhook target rules. */
const HOOK = { url: 'https://93.184.216.34/ledger', topics: ['*'] };

const LogLine = z.looseObject({ level: z.int(), time: z.int(), msg: z.string(), reqId: z.string().optional() });
const RequestLine = z.object({ reqId: z.string(), req: z.object({ headers: z.record(z.string(), z.unknown()) }) });
const ResponseLine = z.object({ reqId: z.string(), res: z.object({ statusCode: z.int() }) });

/** Runs `act` and returns the log lines it wrote, each checked to be one JSON object. */
async function logsOf(act: () => Promise<void>): Promise<{ raw: string; lines: z.infer<typeof LogLine>[] }> {
  const from = written.length;
  await act();
  const raw = written.slice(from).join('');
  const lines = raw
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => LogLine.parse(JSON.parse(line)));
  return { raw, lines };
}

describe('logs', () => {
  it('of requests are JSON lines, each with its request id, that name the request headers but never an API key or a webhook secret', async () => {
    const writer = z.object({ key: z.string() }).parse((await call(t.app, 'POST', '/v1/api-keys', { name: 'log test', role: 'writer' })).body).key;
    const { programId, events } = programWithConsortium('logs');
    await record(t.app, ...events);
    const bogusKey = 'ml_this-key-was-never-issued-0123456789';
    let secret = '';

    const { raw, lines } = await logsOf(async () => {
      const stored = await call(t.app, 'POST', '/v1/events', seminarHeld(programId), { authorization: `Bearer ${writer}`, 'x-request-id': 'trace-logs-1' });
      const refused = await call(t.app, 'GET', '/v1/events', undefined, { authorization: `Bearer ${bogusKey}` });
      const invalid = await call(t.app, 'POST', '/v1/events', { type: 'seminar.held', occurredAt: 'someday', data: {} });
      const unknown = await call(t.app, 'GET', '/v1/no-such-route');
      const created = await call(t.app, 'POST', '/v1/subscriptions', HOOK);
      secret = z.object({ secret: z.string() }).parse(created.body).secret;
      const shown = await call(t.app, 'GET', `/v1/subscriptions/${z.object({ id: z.string() }).parse(created.body).id}/secret`);
      expect([stored.status, refused.status, invalid.status, unknown.status, created.status, shown.status]).toEqual([201, 401, 400, 404, 201, 200]);
    });

    expect(secret).toMatch(/^whsec_/);
    expect(lines.length).toBeGreaterThanOrEqual(12);
    expect(lines.filter((line) => line.reqId === undefined)).toEqual([]);
    const requests = lines.filter((line) => line.msg === 'incoming request').map((line) => RequestLine.parse(line));
    const responses = lines.filter((line) => line.msg === 'request completed').map((line) => ResponseLine.parse(line));
    expect(requests).toHaveLength(6);
    expect(responses.map((line) => line.res.statusCode)).toEqual([201, 401, 400, 404, 201, 200]);
    expect(requests.map((line) => line.req.headers['authorization'])).toEqual(Array(6).fill('[Redacted]'));
    expect(requests[0]?.req.headers['x-request-id']).toBe('trace-logs-1');
    expect(lines.filter((line) => line.reqId === 'trace-logs-1').length).toBeGreaterThanOrEqual(2);
    for (const leak of [writer, bogusKey, TEST_ADMIN_KEY, secret]) expect(raw).not.toContain(leak);
  });

  it('never write a key sent where the service does not read keys: in the query, in X-Api-Key, in the path (probe of access under load)', async () => {
    const reader = z.object({ key: z.string() }).parse((await call(t.app, 'POST', '/v1/api-keys', { name: 'misplaced', role: 'reader' })).body).key;
    const admin = TEST_ADMIN_KEY;

    const { raw, lines } = await logsOf(async () => {
      const answers = await Promise.all([
        call(t.app, 'GET', `/v1/programs?api_key=${reader}`, undefined, { authorization: '' }),
        call(t.app, 'GET', `/v1/programs?limit=5&access_token=${encodeURIComponent(admin)}`, undefined, { authorization: '' }),
        call(t.app, 'GET', '/v1/programs', undefined, { authorization: '', 'x-api-key': reader }),
        call(t.app, 'GET', `/v1/${reader}`, undefined, { authorization: '' }),
        // Found by the review: an encoded underscore, the admin key under other names, other headers.
        call(t.app, 'GET', `/v1/programs?x=${reader.replace('_', '%5F')}`, undefined, { authorization: '' }),
        call(t.app, 'GET', `/v1/programs?auth=${encodeURIComponent(admin)}&authorization=Bearer%20${encodeURIComponent(admin)}`, undefined, { authorization: '' }),
        call(t.app, 'GET', '/v1/programs', undefined, { authorization: '', 'x-auth-token': admin, 'x-access-token': reader, referer: `https://example.org/?k=${reader}` }),
        // Found by the second review: underscores in a header's name, a bare "key", an encoded or prefixed parameter name, a request id.
        call(t.app, 'GET', `/v1/programs?api%5Fkey=${encodeURIComponent(admin)}&client_secret=${encodeURIComponent(admin)}`, undefined, { authorization: '', x_api_key: admin, 'x-key': admin, 'x-request-id': reader }),
      ]);
      expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 404, 401, 401, 401, 401]);
    });

    const requests = lines.filter((line) => line.msg === 'incoming request');
    expect(requests).toHaveLength(8);
    for (const leak of [reader, reader.slice(4), admin, encodeURIComponent(admin)]) expect(raw).not.toContain(leak);
    // What was redacted is still said to have been there, and the rest of the URL is kept.
    expect(raw).toContain('/v1/programs?limit=5&access_token=[Redacted]');
    expect(raw).toContain('"x-api-key":"[Redacted]"');
  });

  it('redact a webhook secret in each shape the code holds it: a subscription, its secrets, a signed request', async () => {
    const created = await call(t.app, 'POST', '/v1/subscriptions', HOOK);
    const subscription = z.object({ id: z.string(), secret: z.string() }).parse(created.body);
    const { secrets } = z.object({ secrets: z.array(z.object({ secret: z.string() })) }).parse((await call(t.app, 'GET', `/v1/subscriptions/${subscription.id}/secret`)).body);
    const signature = 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=';

    const { raw, lines } = await logsOf(async () => {
      t.app.log.info(subscription, 'a subscription');
      t.app.log.info({ subscription }, 'a nested subscription');
      t.app.log.info({ secrets }, 'its secrets');
      t.app.log.info({ delivery: { headers: { 'webhook-signature': signature } } }, 'a signed request');
    });

    expect(lines).toHaveLength(4);
    expect(raw).not.toContain(subscription.secret);
    expect(raw).not.toContain(signature);
    expect(raw.match(/\[Redacted\]/g)).toHaveLength(4);
    expect(raw).toContain(subscription.id);
  });
});
