import { request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { parseWebhookTarget, refuseAddress } from '../services/webhook-target-check.js';
import type { ResolvedAddress, ResolveHost, TargetRefusal, TargetRules, WebhookTarget } from '../services/webhook-target-check.js';
import { parseRetryAfter } from './retry-after.js';

/** How much of a receiver's answer is kept for the delivery log (webhooks.md §2.7). */
export const MAX_RESPONSE_BYTES = 16 * 1024;

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly rules: TargetRules;
  readonly resolve: ResolveHost;
  /** From the start of the attempt until a TCP connection is up, name resolution included. */
  readonly connectTimeoutMs: number;
  /** From the start of the attempt until the response is read. */
  readonly totalTimeoutMs: number;
  readonly signal?: AbortSignal;
}

/** 'internal': the service could not prepare the attempt (no secret, notification gone). */
export type SendErrorKind = 'timeout' | 'dns' | 'connect' | 'reset' | 'tls' | 'http' | 'blocked_target' | 'aborted' | 'internal';

export interface SendOutcome {
  /** True only for a 2xx answer. */
  readonly ok: boolean;
  readonly status: number | null;
  readonly errorKind: SendErrorKind | null;
  readonly errorDetail: string | null;
  readonly durationMs: number;
  /** At most MAX_RESPONSE_BYTES of the body, decoded as UTF-8. */
  readonly responseBody: string;
  readonly retryAfterSeconds: number | null;
}

interface Failure {
  readonly kind: SendErrorKind;
  readonly detail: string;
}

type Answer = Pick<SendOutcome, 'status' | 'responseBody' | 'retryAfterSeconds'> & { readonly location: string | undefined };

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO$)/;

function errorCode(error: Error): string {
  return 'code' in error && typeof error.code === 'string' ? error.code : '';
}

/**
 * What failed, by the error and how far the connection got: once the request could be read, the
 * receiver closed the connection before answering (`reset`), or answered with what is not HTTP
 * (`http`). Until 2026-12-06 both were `connect`, which reads as a receiver out of reach (found by
 * the probe of webhook leases).
 */
function classifyError(error: Error, reached: Reached): SendErrorKind {
  const code = errorCode(error);
  if (TLS_CODE.test(code)) return 'tls';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
  if (!reached.tcp) return 'connect';
  if (!reached.request) return 'tls';
  return code.startsWith('HPE_') ? 'http' : 'reset';
}

/** How far a connection got: TCP connected; the request could be read (over TLS, the handshake done). */
interface Reached {
  tcp: boolean;
  request: boolean;
}

// Stream mode holds back a multi-byte character cut by the cap instead of emitting U+FFFD, and NUL
// is replaced because PostgreSQL text cannot store it.
const decodeBody = (chunks: readonly Buffer[]): string =>
  new TextDecoder().decode(Buffer.concat(chunks), { stream: true }).replaceAll('\u0000', '\uFFFD');

function describeStatus(status: number, location: string | undefined): string {
  if (status < 300 || status >= 400) return `The receiver answered ${status}.`;
  const to = location === undefined ? '' : ` to ${location.slice(0, 200)}`;
  return `The receiver answered ${status}, a redirect${to}; redirects are not followed.`;
}

/**
 * A lookup that hands the socket only addresses the rules allow, so the address checked is the one
 * connected to and a second DNS answer (rebinding) never reaches the socket.
 */
function vettingLookup(target: WebhookTarget, request: WebhookRequest, onFailure: (failure: Failure) => void): LookupFunction {
  return (hostname, options, callback) => {
    const refuseWith = (failure: Failure): void => {
      onFailure(failure);
      callback(Object.assign(new Error(failure.detail), { code: 'EWEBHOOKTARGET' }), '');
    };
    Promise.resolve()
      .then(() => request.resolve(hostname))
      .then(
        (answers) => {
          const vetted: ResolvedAddress[] = [];
          let refusal: TargetRefusal | null = null;
          for (const answer of answers) {
            const reason = refuseAddress(answer.address, target, request.rules);
            if (reason === null) vetted.push(answer);
            else refusal ??= reason;
          }
          const [first] = vetted;
          if (first === undefined) {
            if (refusal === null) return refuseWith({ kind: 'dns', detail: `The host ${hostname} has no addresses.` });
            return refuseWith({ kind: 'blocked_target', detail: refusal.detail });
          }
          if (options.all === true) callback(null, vetted.map(({ address, family }) => ({ address, family })));
          else callback(null, first.address, first.family);
        },
        (error: unknown) => {
          const cause = error instanceof Error ? `: ${error.message}` : '';
          refuseWith({ kind: 'dns', detail: `The host ${hostname} could not be resolved${cause}.` });
        },
      )
      .catch(() => refuseWith({ kind: 'connect', detail: `The connection to ${hostname} failed during lookup.` }));
  };
}

/** Runs the HTTP exchange; resolves once with either a failure or the receiver's answer. */
function exchange(target: WebhookTarget, request: WebhookRequest): Promise<Failure | Answer> {
  return new Promise((settle) => {
    let lookupFailure: Failure | null = null;
    let settled = false;
    const finish = (result: Failure | Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      request.signal?.removeEventListener('abort', onAbort);
      // With the answer read or abandoned, the socket has no further use; an endless body stops here.
      req.destroy();
      settle(result);
    };

    const options: RequestOptions = {
      method: 'POST',
      hostname: target.hostname,
      port: target.url.port === '' ? undefined : Number(target.url.port),
      path: `${target.url.pathname}${target.url.search}`,
      headers: request.headers,
      // A pooled socket could have been vetted under other rules; each attempt connects afresh.
      agent: false,
      lookup: vettingLookup(target, request, (failure) => (lookupFailure = failure)),
    };
    const req: ClientRequest = (target.secure ? httpsRequest : httpRequest)(options);

    const connectTimer = setTimeout(
      () => finish({ kind: 'timeout', detail: `No connection to ${target.hostname} within ${request.connectTimeoutMs} ms.` }),
      request.connectTimeoutMs,
    );
    const totalTimer = setTimeout(
      () => finish({ kind: 'timeout', detail: `No complete answer from ${target.hostname} within ${request.totalTimeoutMs} ms.` }),
      request.totalTimeoutMs,
    );
    const onAbort = (): void => finish({ kind: 'aborted', detail: 'The attempt was cancelled before it completed.' });
    request.signal?.addEventListener('abort', onAbort, { once: true });

    // How far the connection got: TCP, then (over TLS) the handshake, after which the receiver can
    // read the request. A receiver that cuts the handshake short is a TLS failure, not a `reset`
    // (the review of `reset`).
    const reached: Reached = { tcp: false, request: false };
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        reached.tcp = true;
        clearTimeout(connectTimer);
      });
      socket.once(target.secure ? 'secureConnect' : 'connect', () => {
        reached.request = true;
      });
    });
    req.on('error', (error) => {
      finish(lookupFailure ?? { kind: classifyError(error, reached), detail: `The request to ${target.hostname} failed: ${error.message}` });
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = (): void =>
        finish({
          status: res.statusCode ?? null,
          responseBody: decodeBody(chunks),
          retryAfterSeconds: parseRetryAfter(res.headers['retry-after'], Date.now()),
          location: res.headers.location,
        });
      res.on('data', (chunk: Buffer) => {
        const room = MAX_RESPONSE_BYTES - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (size >= MAX_RESPONSE_BYTES) answer();
      });
      // A body cut short still leaves a status; the status is what decides the attempt.
      res.on('end', answer);
      res.on('error', answer);
      res.on('close', answer);
    });
    req.end(request.body);
  });
}

/**
 * One delivery attempt: POSTs the body to the URL, connecting only to an address the rules allow,
 * never following a redirect. Never throws; every failure is an outcome.
 */
export async function sendWebhook(request: WebhookRequest): Promise<SendOutcome> {
  const started = performance.now();
  const conclude = (result: Failure | Answer): SendOutcome => {
    const durationMs = Math.round(performance.now() - started);
    if ('kind' in result) {
      return { ok: false, status: null, errorKind: result.kind, errorDetail: result.detail, durationMs, responseBody: '', retryAfterSeconds: null };
    }
    const ok = result.status !== null && result.status >= 200 && result.status < 300;
    const errorDetail = ok || result.status === null ? null : describeStatus(result.status, result.location);
    return { ok, status: result.status, errorKind: ok ? null : 'http', errorDetail, durationMs, responseBody: result.responseBody, retryAfterSeconds: result.retryAfterSeconds };
  };

  try {
    const parsed = parseWebhookTarget(request.url);
    if (!parsed.allowed) return conclude({ kind: 'blocked_target', detail: parsed.detail });
    const { target } = parsed;
    // Node connects to an IP literal without calling lookup, so the literal is vetted here.
    const refusal = target.isIpLiteral ? refuseAddress(target.hostname, target, request.rules) : null;
    if (refusal !== null) return conclude({ kind: 'blocked_target', detail: refusal.detail });
    if (request.signal?.aborted === true) return conclude({ kind: 'aborted', detail: 'The attempt was cancelled before it started.' });
    return conclude(await exchange(target, request));
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    return conclude({ kind: 'connect', detail: `The attempt failed unexpectedly: ${cause}` });
  }
}
