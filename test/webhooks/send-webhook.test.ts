import { createServer } from 'node:http';
import { createServer as createNetServer, getDefaultAutoSelectFamily, setDefaultAutoSelectFamily } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllowedCidrs } from '../../src/domain/webhook-address-policy.js';
import type { ResolvedAddress, ResolveHost, TargetRules } from '../../src/services/webhook-target-check.js';
import { MAX_RESPONSE_BYTES, sendWebhook } from '../../src/webhooks/send-webhook.js';
import type { WebhookRequest } from '../../src/webhooks/send-webhook.js';

interface Seen {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly host: string | undefined;
  readonly signature: string | undefined;
  readonly body: string;
}

interface Receiver {
  readonly port: number;
  readonly seen: Seen[];
  readonly close: () => Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void;

async function startReceiver(routes: Readonly<Record<string, Route>>, host = '127.0.0.1', port = 0): Promise<Receiver> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const signature = req.headers['webhook-signature'];
      seen.push({ method: req.method, path: req.url, host: req.headers.host, signature: typeof signature === 'string' ? signature : undefined, body: Buffer.concat(chunks).toString() });
      const route = routes[new URL(req.url ?? '/', 'http://receiver').pathname];
      if (route === undefined) res.writeHead(404).end('no such route');
      else route(req, res);
    });
  });
  await new Promise<void>((listening) => server.listen(port, host, listening));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the receiver has no TCP address');
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((closed) => server.close(() => closed()));
  };
  return { port: address.port, seen, close };
}

const LOOPBACK: TargetRules = { addresses: parseAllowedCidrs('127.0.0.1/32'), allowHttp: false };
// send()'s total timeout unless a test sets its own. An attempt that ends within PROMPTLY_MS ended for
// the reason its test gives (a shorter timeout, an abort, a capped body), not by this one; the margin
// between the two is for a loaded machine, whose timers fire late.
const TOTAL_TIMEOUT_MS = 5_000;
const PROMPTLY_MS = 3_000;
// The /slow receiver answers after this, long past the connect timeout its test sets.
const SLOW_ANSWER_MS = 1_000;
const NOTHING_ALLOWED: TargetRules = { addresses: parseAllowedCidrs(''), allowHttp: true };

const answer = (address: string): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 });
const resolverAnswering = (...addresses: string[]): ResolveHost => async () => addresses.map(answer);
const noDns: ResolveHost = async (hostname) => {
  throw new Error(`no DNS in this test (asked for ${hostname})`);
};

let receiver: Receiver;
let internal: Receiver;
const url = (path: string): string => `http://127.0.0.1:${receiver.port}${path}`;

function send(overrides: Partial<WebhookRequest> & Pick<WebhookRequest, 'url'>): ReturnType<typeof sendWebhook> {
  return sendWebhook({
    headers: { 'content-type': 'application/json', 'webhook-signature': 'v1,abc' },
    body: '{"type":"milestone.status_changed"}',
    rules: LOOPBACK,
    resolve: noDns,
    connectTimeoutMs: 2_000,
    totalTimeoutMs: TOTAL_TIMEOUT_MS,
    ...overrides,
  });
}

beforeAll(async () => {
  internal = await startReceiver({ '/latest/meta-data/': (_req, res) => res.end('ami-id') });
  receiver = await startReceiver({
    '/ok': (_req, res) => res.writeHead(200).end('thanks'),
    '/fail': (_req, res) => res.writeHead(500, { 'retry-after': '7' }).end('database is down'),
    '/redirect': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${internal.port}/latest/meta-data/` }).end(),
    '/redirect-metadata': (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end(),
    '/hang': () => {},
    '/slow': (_req, res) => setTimeout(() => res.writeHead(204).end(), SLOW_ANSWER_MS),
    '/big': (_req, res) => res.writeHead(200).end('x'.repeat(1024 * 1024)),
    '/endless': (_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('y'.repeat(1024)), 1);
      res.on('close', () => clearInterval(timer));
    },
    '/close': (req) => req.socket.destroy(),
    '/garbage': (req) => req.socket.end('NOT HTTP AT ALL\r\n\r\n'),
    '/retry-after': (req, res) => res.writeHead(503, { 'retry-after': String(req.headers['x-retry-after'] ?? '') }).end(),
  });
});

afterAll(async () => {
  await receiver.close();
  await internal.close();
});

beforeEach(() => {
  receiver.seen.length = 0;
  internal.seen.length = 0;
});

describe('sendWebhook', () => {
  it('delivers the body and headers and reports a 200 as success', async () => {
    const outcome = await send({ url: url('/ok?attempt=1') });

    expect(outcome).toMatchObject({ ok: true, status: 200, errorKind: null, errorDetail: null, responseBody: 'thanks', retryAfterSeconds: null });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    expect(receiver.seen).toEqual([
      { method: 'POST', path: '/ok?attempt=1', host: `127.0.0.1:${receiver.port}`, signature: 'v1,abc', body: '{"type":"milestone.status_changed"}' },
    ]);
  });

  it('reports a 500 as an http failure and keeps the body and Retry-After', async () => {
    const outcome = await send({ url: url('/fail') });

    expect(outcome).toMatchObject({ ok: false, status: 500, errorKind: 'http', responseBody: 'database is down', retryAfterSeconds: 7 });
    expect(outcome.errorDetail).toContain('500');
  });

  it('does not follow a 302, even to an address the rules allow', async () => {
    const outcome = await send({ url: url('/redirect') });

    expect(outcome).toMatchObject({ ok: false, status: 302, errorKind: 'http' });
    expect(outcome.errorDetail).toContain('redirects are not followed');
    expect(receiver.seen.map((request) => request.path)).toEqual(['/redirect']);
    expect(internal.seen).toEqual([]);
  });

  it('reports a 302 to the metadata address as a failure carrying its status', async () => {
    const outcome = await send({ url: url('/redirect-metadata'), rules: { ...LOOPBACK, allowHttp: true } });

    expect(outcome).toMatchObject({ ok: false, status: 302, errorKind: 'http' });
    expect(outcome.errorDetail).toContain('http://169.254.169.254/');
  });

  it('gives up on a receiver that never answers, at about the total timeout', async () => {
    const outcome = await send({ url: url('/hang'), totalTimeoutMs: 300 });

    expect(outcome).toMatchObject({ ok: false, status: null, errorKind: 'timeout' });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(290);
    expect(outcome.durationMs).toBeLessThan(PROMPTLY_MS);
    expect(receiver.seen.map((request) => request.path)).toEqual(['/hang']);
  });

  it('counts name resolution against the connect timeout', async () => {
    const stuck: ResolveHost = () => new Promise(() => {});

    const outcome = await send({ url: `http://receiver.test:${receiver.port}/ok`, resolve: stuck, connectTimeoutMs: 200 });

    expect(outcome).toMatchObject({ ok: false, errorKind: 'timeout' });
    expect(outcome.errorDetail).toContain('No connection');
    expect(outcome.durationMs).toBeLessThan(PROMPTLY_MS);
    expect(receiver.seen).toEqual([]);
  });

  it('stops promptly when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);

    const outcome = await send({ url: url('/hang'), signal: controller.signal });

    expect(outcome).toMatchObject({ ok: false, errorKind: 'aborted' });
    expect(outcome.durationMs).toBeLessThan(PROMPTLY_MS);
  });

  it('does not start when the signal has already aborted', async () => {
    const outcome = await send({ url: url('/ok'), signal: AbortSignal.abort() });

    expect(outcome).toMatchObject({ ok: false, errorKind: 'aborted' });
    expect(receiver.seen).toEqual([]);
  });

  it(`keeps only the first ${MAX_RESPONSE_BYTES} bytes of a 1 MiB answer`, async () => {
    const outcome = await send({ url: url('/big') });

    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(outcome.responseBody).toHaveLength(16_384);
    expect(outcome.responseBody).toBe('x'.repeat(16_384));
  });

  it('does not wait for the end of an endless body', async () => {
    const outcome = await send({ url: url('/endless') });

    expect(outcome).toMatchObject({ ok: true, status: 200, errorKind: null });
    expect(outcome.responseBody).toHaveLength(MAX_RESPONSE_BYTES);
    expect(outcome.durationMs).toBeLessThan(PROMPTLY_MS);
  });

  it.each([
    ['7', 7],
    ['0', 0],
    ['-3', 0],
    ['soon', null],
    ['Test 1', null],
    ['1.5', null],
    ['', null],
    [new Date(Date.now() - 60_000).toUTCString(), 0],
    // The two obsolete forms of an HTTP-date, which a recipient must accept too (RFC 9110 §5.6.7), long past.
    ['Sunday, 06-Nov-94 08:49:37 GMT', 0],
    ['Sun Nov  6 08:49:37 1994', 0],
    // Days that do not exist, a day name of the wrong form, a zone other than GMT.
    ['Tue, 31 Feb 2026 08:49:37 GMT', null],
    ['Sun, 06-Nov-94 08:49:37 GMT', null],
    ['Sun, 06 Nov 1994 08:49:37 UTC', null],
  ])('reads Retry-After %j as %s', async (header, expected) => {
    const outcome = await send({ url: url('/retry-after'), headers: { 'x-retry-after': header } });

    expect(outcome.status).toBe(503);
    expect(outcome.retryAfterSeconds).toBe(expected);
  });

  it('reads a Retry-After HTTP-date about ten seconds ahead as about ten seconds', async () => {
    const header = new Date(Date.now() + 10_000).toUTCString();
    const at = Date.parse(header);

    const sentAt = Date.now();
    const outcome = await send({ url: url('/retry-after'), headers: { 'x-retry-after': header } });
    const answeredAt = Date.now();

    // Whole seconds left when the answer was read, some time between sending and the outcome (long, on a loaded machine).
    expect(outcome.retryAfterSeconds).toBeGreaterThanOrEqual(Math.ceil((at - answeredAt) / 1000));
    expect(outcome.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil((at - sentAt) / 1000));
    expect(outcome.retryAfterSeconds).toBeLessThanOrEqual(10);
  });

  it.each([
    ['RFC 850', (at: Date) => rfc850(at)],
    ['asctime', (at: Date) => asctime(at)],
  ])("reads a Retry-After HTTP-date in the obsolete %s form ten minutes ahead as ten minutes (until 2026-12-06, none: the probe of dates saw a receiver asking so for rest tried every 2 s until its delivery failed)", async (_form, format) => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 600_000);

    const sentAt = Date.now();
    const outcome = await send({ url: url('/retry-after'), headers: { 'x-retry-after': format(at) } });

    expect(outcome.retryAfterSeconds).toBeLessThanOrEqual(Math.ceil((at.getTime() - sentAt) / 1000));
    expect(outcome.retryAfterSeconds).toBeGreaterThanOrEqual(590);
  });

  it('refuses the same URL when no CIDR allows loopback, without connecting', async () => {
    const outcome = await send({ url: url('/ok'), rules: NOTHING_ALLOWED });

    expect(outcome).toMatchObject({ ok: false, status: null, errorKind: 'blocked_target' });
    expect(outcome.errorDetail).toContain('127.0.0.1');
    expect(receiver.seen).toEqual([]);
  });

  it('connects a custom hostname to the vetted address and sends its name as Host', async () => {
    const outcome = await send({ url: `http://receiver.test:${receiver.port}/ok`, resolve: resolverAnswering('127.0.0.1') });

    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(receiver.seen.map((request) => request.host)).toEqual([`receiver.test:${receiver.port}`]);
  });

  it('skips resolved addresses the rules refuse and connects to the allowed one', async () => {
    // A decoy on 127.0.0.2, same port: were the refused first answer used, the decoy would see the request.
    const decoy = await startReceiver({ '/ok': (_req, res) => res.writeHead(200).end('decoy') }, '127.0.0.2', receiver.port);
    const resolve = resolverAnswering('127.0.0.2', '169.254.169.254', '127.0.0.1');

    const outcome = await send({ url: `http://receiver.test:${receiver.port}/ok`, resolve }).finally(decoy.close);

    expect(outcome).toMatchObject({ ok: true, status: 200, responseBody: 'thanks' });
    expect(receiver.seen).toHaveLength(1);
    expect(decoy.seen).toEqual([]);
  });

  it('pins the vetted address when Node asks the lookup for a single address', async () => {
    const autoSelect = getDefaultAutoSelectFamily();
    setDefaultAutoSelectFamily(false);

    const outcome = await send({ url: `http://receiver.test:${receiver.port}/ok`, resolve: resolverAnswering('10.0.0.1', '127.0.0.1') }).finally(() =>
      setDefaultAutoSelectFamily(autoSelect),
    );

    expect(outcome).toMatchObject({ ok: true, status: 200 });
    expect(receiver.seen.map((request) => request.host)).toEqual([`receiver.test:${receiver.port}`]);
  });

  it('lets a slow answer run past the connect timeout once connected', async () => {
    // Half the answer's delay: a connection on loopback is made within it however late timers fire.
    const outcome = await send({ url: url('/slow'), connectTimeoutMs: SLOW_ANSWER_MS / 2 });

    expect(outcome).toMatchObject({ ok: true, status: 204, errorKind: null });
  });

  it('blocks a custom hostname resolving to 127.0.0.1 without the allow-list', async () => {
    const outcome = await send({ url: `http://receiver.test:${receiver.port}/ok`, resolve: resolverAnswering('127.0.0.1'), rules: NOTHING_ALLOWED });

    expect(outcome).toMatchObject({ ok: false, status: null, errorKind: 'blocked_target' });
    expect(outcome.errorDetail).toContain('receiver.test (127.0.0.1)');
    expect(receiver.seen).toEqual([]);
  });

  it('reports a resolver failure as a dns error', async () => {
    const outcome = await send({ url: `http://receiver.test:${receiver.port}/ok` });

    expect(outcome).toMatchObject({ ok: false, errorKind: 'dns' });
    expect(outcome.errorDetail).toContain('receiver.test');
  });

  it('reports a receiver that takes the request and closes the connection without an answer as reset, and one answering what is not HTTP as http, not as connect errors (probe of webhook leases)', async () => {
    expect(await send({ url: url('/close') })).toMatchObject({ ok: false, status: null, errorKind: 'reset', errorDetail: expect.stringContaining('socket hang up') });
    expect(await send({ url: url('/garbage') })).toMatchObject({ ok: false, status: null, errorKind: 'http' });
    expect(receiver.seen.map((r) => r.path)).toEqual(['/close', '/garbage']);
  });

  it('reports a receiver that cuts the TLS handshake short as tls, not reset: the request was never sent (review of reset)', async () => {
    const cutter = createNetServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((listening) => cutter.listen(0, '127.0.0.1', listening));
    const address = cutter.address();
    try {
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      expect(await send({ url: `https://127.0.0.1:${address.port}/hook` })).toMatchObject({ ok: false, status: null, errorKind: 'tls' });
    } finally {
      await new Promise((closed) => cutter.close(closed));
    }
  });

  it('reports a refused connection as a connect error', async () => {
    const gone = await startReceiver({});
    await gone.close();

    const outcome = await send({ url: `http://127.0.0.1:${gone.port}/ok` });

    expect(outcome).toMatchObject({ ok: false, status: null, errorKind: 'connect' });
  });

  it('refuses plain http to an allowed but unlisted address unless http is allowed', async () => {
    const rules: TargetRules = { addresses: parseAllowedCidrs(''), allowHttp: false };

    const outcome = await send({ url: 'http://93.184.215.14/hook', rules });

    expect(outcome).toMatchObject({ ok: false, errorKind: 'blocked_target' });
    expect(outcome.errorDetail).toContain('http');
  });

  it('refuses a URL carrying credentials without connecting', async () => {
    const outcome = await send({ url: `http://user:pw@127.0.0.1:${receiver.port}/ok` });

    expect(outcome).toMatchObject({ ok: false, errorKind: 'blocked_target' });
    expect(receiver.seen).toEqual([]);
  });
});

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');
const clock = (at: Date) => `${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())}`;
const monthOf = (at: Date) => MONTH_NAMES[at.getUTCMonth()] ?? '';
const dayOf = (at: Date) => DAYS[at.getUTCDay()] ?? '';

/** "Sunday, 06-Nov-94 08:49:37 GMT" */
const rfc850 = (at: Date) => `${dayOf(at)}, ${two(at.getUTCDate())}-${monthOf(at)}-${two(at.getUTCFullYear() % 100)} ${clock(at)} GMT`;
/** "Sun Nov  6 08:49:37 1994" */
const asctime = (at: Date) => `${dayOf(at).slice(0, 3)} ${monthOf(at)} ${String(at.getUTCDate()).padStart(2, ' ')} ${clock(at)} ${at.getUTCFullYear()}`;
