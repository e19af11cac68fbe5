import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { seminarHeld } from './events.js';

/** What became of one POST /v1/events, as its client saw it. */
export type AppendOutcome =
  | {
      readonly kind: 'answered';
      readonly title: string;
      readonly status: number;
      readonly contentType: string | undefined;
      /** The problem `type` of an answer that is not 2xx, when it is a problem. */
      readonly problemType: string | undefined;
      readonly ids: readonly string[];
      readonly sentAt: number;
      readonly endedAt: number;
    }
  /** The connection was refused: the server no longer accepts, so it cannot have taken the request. */
  | { readonly kind: 'refused'; readonly title: string; readonly sentAt: number; readonly endedAt: number }
  /** The connection broke before the whole response arrived. */
  | {
      readonly kind: 'unanswered';
      readonly title: string;
      readonly error: string;
      /** Sent on a kept-alive connection that had served an earlier request. */
      readonly reusedSocket: boolean;
      readonly responseStarted: boolean;
      readonly sentAt: number;
      readonly endedAt: number;
    };

export interface AppendLoadOptions {
  readonly port: number;
  readonly apiKey: string;
  readonly programId: string;
  readonly clients: number;
}

export interface AppendLoad {
  /**
   * Resolves once the clients have had `count` events stored (201) between them: the load is under way.
   * Rejects if they all stop first, or after `timeoutMs`.
   */
  untilCreated(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once every client has stopped: told to, or refused by a server that stopped listening. */
  stop(): Promise<readonly AppendOutcome[]>;
  /** What the clients have seen so far, while they run. */
  outcomesSoFar(): readonly AppendOutcome[];
  /** Resolves once every client has been refused, i.e. the server has stopped accepting connections. */
  readonly refused: Promise<readonly AppendOutcome[]>;
}

const Created = z.object({ events: z.array(z.object({ id: z.string() })) });
const Problem = z.object({ type: z.string() });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Clients that each POST one seminar.held event after another over one keep-alive connection, as a
 * busy integration does, and record what became of every request. Each event's title names its
 * request, so the database shows which requests were stored whatever their client saw.
 */
export function startAppendLoad(options: AppendLoadOptions): AppendLoad {
  const outcomes: AppendOutcome[] = [];
  let stopping = false;
  const runClient = async (client: number): Promise<void> => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let n = 0; !stopping; n++) {
        const outcome = await postEvent(agent, options, `load-${client}-${n}`);
        outcomes.push(outcome);
        if (outcome.kind === 'refused') return;
      }
    } finally {
      agent.destroy();
    }
  };
  const clients = Promise.all(Array.from({ length: options.clients }, (_, client) => runClient(client))).then(() => outcomes);
  let stopped = false;
  const markStopped = () => {
    stopped = true;
  };
  // A failure is reported by stop(); this only notes that no client runs any more.
  void clients.then(markStopped, markStopped);
  const created = () => outcomes.filter((outcome) => outcome.kind === 'answered' && outcome.status === 201).length;
  return {
    untilCreated: async (count, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (created() < count) {
        if (stopped || Date.now() > deadline) throw new Error(`the load stored ${created()} of ${count} events: ${JSON.stringify(outcomes.slice(-3))}`);
        await sleep(10);
      }
    },
    stop: async () => {
      stopping = true;
      return clients;
    },
    refused: clients,
    outcomesSoFar: () => outcomes,
  };
}

function postEvent(agent: Agent, options: AppendLoadOptions, title: string): Promise<AppendOutcome> {
  const payload = JSON.stringify(seminarHeld(options.programId, title));
  const sentAt = Date.now();
  return new Promise((resolve) => {
    let responseStarted = false;
    const req = request(
      {
        host: '127.0.0.1',
        port: options.port,
        method: 'POST',
        path: '/v1/events',
        agent,
        headers: {
          authorization: `Bearer ${options.apiKey}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        responseStarted = true;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ids = status === 201 ? Created.parse(JSON.parse(body)).events.map((event) => event.id) : [];
          const contentType = res.headers['content-type'];
          const problemType = status >= 300 ? Problem.safeParse(safeJson(body)).data?.type : undefined;
          resolve({ kind: 'answered', title, status, contentType, problemType, ids, sentAt, endedAt: Date.now() });
        });
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('response cut off'));
        });
      },
    );
    function fail(error: Error): void {
      const code = 'code' in error && typeof error.code === 'string' ? error.code : error.message;
      const endedAt = Date.now();
      // The first settlement wins: a broken response may be reported twice, by the request and by the response.
      if (code === 'ECONNREFUSED') resolve({ kind: 'refused', title, sentAt, endedAt });
      else resolve({ kind: 'unanswered', title, error: code, reusedSocket: req.reusedSocket, responseStarted, sentAt, endedAt });
    }
    req.on('error', fail);
    req.end(payload);
  });
}
