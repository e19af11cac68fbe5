import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { bearer, TEST_ADMIN_KEY } from './http.js';

export interface SseMessage {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/**
 * A text/event-stream parser after the WHATWG rules the feed relies on: `field: value` lines,
 * `data` lines joined by newlines, `:` comments ignored, a blank line ends a message.
 */
export function parseSse(text: string): { messages: SseMessage[]; rest: string } {
  const blocks = text.replaceAll('\r\n', '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  const messages = blocks.flatMap((block): SseMessage[] => {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    return data.length === 0 && id === undefined && event === undefined ? [] : [{ id, event, data: data.join('\n') }];
  });
  return { messages, rest };
}

export interface SseConnection {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Every message received so far, in order. */
  readonly messages: readonly SseMessage[];
  /** The raw body so far: a problem document when the status is not 200. */
  readonly body: () => string;
  /** How the response stopped: the server ended it, or the connection broke first. */
  readonly ended: Promise<'end' | 'aborted'>;
  /**
   * Resolves once `done(messages)` holds; rejects after `timeoutMs`. The default is generous: the feed
   * rightly holds a commit back while an older transaction runs anywhere on the server (another test
   * file's, say), and a loaded machine polls late.
   */
  waitFor(done: (messages: readonly SseMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Drops the connection, as a client that crashes or goes offline does. */
  destroy(): void;
}

/** Opens `path` on a listening app over a real socket, with the admin key, and parses what arrives. */
export function openSse(app: FastifyInstance, path: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const address: AddressInfo | string | null = app.server.address();
  if (address === null || typeof address === 'string') return Promise.reject(new Error('the app is not listening on TCP'));
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: address.port, path, headers: { ...bearer(TEST_ADMIN_KEY), ...headers } }, (res) => {
      const messages: SseMessage[] = [];
      let raw = '';
      let pending = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        raw += chunk;
        const parsed = parseSse(pending + chunk);
        pending = parsed.rest;
        messages.push(...parsed.messages);
        for (const wake of waiters) wake();
      });
      const ended = new Promise<'end' | 'aborted'>((settle) => {
        res.on('end', () => settle('end'));
        res.on('aborted', () => settle('aborted'));
        res.on('error', () => settle('aborted'));
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        messages,
        body: () => raw,
        ended,
        destroy: () => req.destroy(),
        waitFor: (done, timeoutMs = 30_000) =>
          new Promise<void>((fulfil, fail) => {
            const check = () => {
              if (!done(messages)) return;
              clearTimeout(timer);
              waiters.delete(check);
              fulfil();
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out after ${timeoutMs} ms with ${messages.length} messages`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
