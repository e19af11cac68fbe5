import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { committedResponses } from './openapi-responses.js';

export interface ReceivedWebhook {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly receivedAt: number;
  readonly answeredAt: number;
  readonly status: number;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Wait this long before answering; Infinity never answers. */
  readonly delayMs?: number;
}

/** Decides the answer to a request; `nth` counts requests with the same webhook-id at the same path, from 1. */
export type Behaviour = (request: { path: string; messageId: string; nth: number }) => Answer;

export interface WebhookReceiver {
  readonly url: (path: string) => string;
  readonly received: ReceivedWebhook[];
  /** The path of every request that arrived, answered or not, in order of arrival. */
  readonly started: string[];
  /** How many requests carried the same webhook-id to the same path at the same moment (should stay 1). */
  readonly maxConcurrentPerMessage: () => number;
  /** The most requests to one path under way at the same moment. */
  readonly maxConcurrentAt: (path: string) => number;
  waitFor(predicate: (received: readonly ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  /** What was wrong with the messages received, by the committed document's `webhooks`; empty when all conform. */
  readonly nonconforming: readonly string[];
  /** Stops the receiver; throws if a message it received did not match the committed document. */
  close(): Promise<void>;
}

/**
 * A real HTTP endpoint on 127.0.0.1 that records the raw bytes of what it is sent, and checks each
 * message against the committed OpenAPI document's `webhooks`, as `call()` checks each response: a
 * test whose receiver got a message the document does not describe fails when it closes the receiver.
 * A bench that posts its own bodies to it, to time them, turns the check off.
 */
export async function startWebhookReceiver(behaviour: Behaviour = () => ({ status: 200 }), options: { readonly checkMessages?: boolean } = {}): Promise<WebhookReceiver> {
  const checkMessages = options.checkMessages ?? true;
  const received: ReceivedWebhook[] = [];
  const nonconforming: string[] = [];
  const started: string[] = [];
  const seen = new Map<string, number>();
  const open = new Map<string, number>();
  let maxConcurrent = 0;
  const openAtPath = new Map<string, number>();
  const maxAtPath = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const receivedAt = Date.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const messageId = String(request.headers['webhook-id'] ?? '');
      const path = request.url ?? '/';
      if (checkMessages) nonconforming.push(...committedResponses().problemsWithWebhook(request.headers, body).map((problem) => `${path}: ${problem}`));
      // One message goes to every matching subscription: what must not overlap is one message at one endpoint.
      const key = `${path} ${messageId}`;
      const nth = (seen.get(key) ?? 0) + 1;
      seen.set(key, nth);
      open.set(key, (open.get(key) ?? 0) + 1);
      maxConcurrent = Math.max(maxConcurrent, open.get(key) ?? 0);
      const atPath = (openAtPath.get(path) ?? 0) + 1;
      openAtPath.set(path, atPath);
      maxAtPath.set(path, Math.max(maxAtPath.get(path) ?? 0, atPath));
      started.push(path);
      const answer = behaviour({ path, messageId, nth });
      const respond = () => {
        open.set(key, (open.get(key) ?? 1) - 1);
        openAtPath.set(path, (openAtPath.get(path) ?? 1) - 1);
        received.push({ path, headers: request.headers, body, receivedAt, answeredAt: Date.now(), status: answer.status });
        response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      };
      if (answer.delayMs === Infinity) return;
      if (answer.delayMs !== undefined && answer.delayMs > 0) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = isAddressInfo(address) ? address.port : 0;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    nonconforming,
    started,
    maxConcurrentPerMessage: () => maxConcurrent,
    maxConcurrentAt: (path) => maxAtPath.get(path) ?? 0,
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(received)) {
        if (Date.now() > deadline) throw new Error(`receiver: condition not met within ${timeoutMs} ms (${received.length} received)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      server.closeAllConnections();
      server.close();
      if (nonconforming.length > 0) throw new Error(`webhooks that do not match openapi/openapi.json:\n${nonconforming.slice(0, 20).join('\n')}`);
    },
  };
}

function isAddressInfo(value: unknown): value is AddressInfo {
  return typeof value === 'object' && value !== null && 'port' in value;
}
