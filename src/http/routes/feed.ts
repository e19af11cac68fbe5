import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ConsortiumId, ProgramId } from '../../domain/identifiers.js';
import { FeedCapacityReachedError, InvalidCursorError, TooManyFeedsError } from '../../domain/errors.js';
import { STATUS_CHANGED, Topic } from '../../domain/notification.js';
import type { KeyRegistry, KeyRevocations } from '../../services/api-keys.js';
import { FEED_NOW, type FeedItem, type NotificationFeed } from '../../services/notification-feed.js';
import { ProblemDetails } from '../problem.js';
import { EVENT_STREAM_MEDIA_TYPE } from '../media-types.js';
import { commaList } from '../schemas/comma-list.js';
import { decimalInteger } from '../schemas/decimal-integer.js';
import { principalOf } from '../route-access.js';

export interface FeedRoutesOptions {
  readonly notifications: NotificationFeed;
  readonly keys: Pick<KeyRegistry, 'isApiKeyActive'>;
  /** Keys revoked through this instance: their open feeds end at once. */
  readonly revocations: Pick<KeyRevocations, 'listen'>;
  /**
   * How often an open feed looks its key up again, for a revocation made through another instance
   * (API_KEY_CACHE_MS, as a request's key is; at least a second).
   */
  readonly keyRecheckMs: number;
  /** How long an idle feed waits before it looks for new notifications again. */
  readonly pollMs: number;
  /** Live feeds one API key may hold open on this instance at once. */
  readonly maxFeedsPerKey: number;
  /** Live feeds of all keys together this instance may hold open at once. */
  readonly maxFeedsPerInstance: number;
  readonly maxPageSize: number;
  /** Told how many feeds this instance holds open whenever one opens or ends (the metrics). */
  readonly onFeedsOpen?: (open: number) => void;
}

const PAGE_SIZE = 500;
// Proxies and load balancers drop connections that stay silent for long; a comment keeps it open.
const KEEP_ALIVE_MS = 15_000;
// A closing app lets a slow client take the last bytes for this long, then cuts it off.
const CLOSE_GRACE_MS = 1_000;
// Feeds last minutes to hours: a refused client (its key's feeds, or the instance's, all taken)
// should not come back at once, nor wait for long.
const FEEDS_FULL_RETRY_AFTER_SECONDS = 30;

const TopicList = commaList(Topic, 'topics')
  .meta({ description: 'Comma-separated topic patterns; omit for every topic', examples: [`pilot.*,${STATUS_CHANGED}`] });

/** `start()`, with a cursor it refuses said to come from the Last-Event-ID header when the header gave it. */
function namingTheHeader<T>(fromHeader: boolean, start: () => T): T {
  try {
    return start();
  } catch (error) {
    throw named(fromHeader, error);
  }
}

const named = (fromHeader: boolean, error: unknown): unknown =>
  fromHeader && error instanceof InvalidCursorError ? new InvalidCursorError(error.cursor, 'last-event-id', error.reason) : error;

const EVENT_STREAM_DESCRIPTION = [
  'Server-sent events, one per notification, in the order the webhooks get them:',
  '`id:` an opaque cursor (send it back as Last-Event-ID to resume after it), `event:` the topic,',
  '`data:` the notification message as JSON, as the webhooks send it (the document\'s `webhooks`: EventMessage, StatusChangedMessage):',
  '`{ id, type, timestamp, sequence, data }`, where `data` is the event',
  `for an event topic and, for ${STATUS_CHANGED}, \`{ schemaVersion: 2, programId, programName, milestone, milestoneTitle,`,
  'consortiumId?, consortiumName?, from, to, since: { value, precision, start, end }, certain, causedBy }`',
  '(`certain`: whether the event that set the new status had certainly happened when the change was recorded).',
  'Lines starting with `:` are keep-alive comments.',
].join(' ');

interface OpenFeed {
  readonly keyId: string;
  stop(): void;
  readonly done: Promise<void>;
}

export const feedRoutes: FastifyPluginAsyncZod<FeedRoutesOptions> = async (app, { notifications, keys, revocations, keyRecheckMs, pollMs, maxFeedsPerKey, maxFeedsPerInstance, maxPageSize, onFeedsOpen }) => {
  const open = new Set<OpenFeed>();
  // server.close() waits for every response still running: a feed never ends by itself, so close ends them first.
  app.addHook('preClose', async () => {
    const feeds = [...open];
    for (const feed of feeds) feed.stop();
    await Promise.all(feeds.map((feed) => feed.done));
  });

  app.get(
    '/v1/feed',
    {
      // A HEAD would hold a stream open that can never carry a body.
      exposeHeadRoute: false,
      config: { access: 'reader' },
      schema: {
        tags: ['notifications'],
        operationId: 'followFeed',
        summary: 'The notifications webhooks get, as server-sent events; Last-Event-ID resumes without loss',
        headers: z.object({
          'last-event-id': z
            .string()
            .optional()
            .meta({ description: 'The id of the last message received; takes precedence over `after`' }),
        }),
        querystring: z.object({
          topics: TopicList.optional(),
          programId: ProgramId.optional(),
          consortiumId: ConsortiumId.optional(),
          after: z
            .string()
            .optional()
            .meta({
              description:
                'Start after the message with this SSE `id:` (as Last-Event-ID does); `now`: after everything committed so far ' +
                '(the first frame is then an `id:` alone, which resumes from there without loss); omit to start at the beginning',
              examples: [FEED_NOW],
            }),
          follow: z
            .enum(['true', 'false'])
            .default('true')
            .transform((value) => value === 'true')
            .meta({ description: 'false: send what is available now (at most `limit` messages) and end the response, instead of waiting for more' }),
          // With follow=false, the most messages one response carries; `after` the last one's id reads on.
          limit: decimalInteger(1, maxPageSize, 1000),
        }),
        response: {
          200: { description: EVENT_STREAM_DESCRIPTION, content: { 'text/event-stream': { schema: z.string() } } },
          400: ProblemDetails,
          429: ProblemDetails,
          503: ProblemDetails,
        },
      },
    },
    async (request, reply) => {
      const { topics, programId, consortiumId, after, follow, limit } = request.query;
      const { keyId } = principalOf(request);
      // EventSource reconnects to the URL it began with, `after` included: the header is the newer
      // position. Empty, it names none (the SSE standard's "no last event ID").
      const lastEventId = request.headers['last-event-id'] === '' ? undefined : request.headers['last-event-id'];
      const resumeAfter = lastEventId ?? after;
      // Read before the response starts, so that a database out of reach is still a 503; and before
      // the limits are checked, so that no await comes between their check and the feed's count.
      const now = resumeAfter === FEED_NOW ? await notifications.startFeedNow() : undefined;
      const controller = new AbortController();
      // Called before the response starts, so that a cursor this service never issued is still a 400.
      const items = namingTheHeader(lastEventId !== undefined, () => notifications.followNotifications({
        after: now?.after ?? resumeAfter,
        notVisibleIn: now?.notVisibleIn,
        topics,
        programId,
        consortiumId,
        follow,
        limit,
        pageSize: PAGE_SIZE,
        pollMs,
        signal: controller.signal,
      }));
      // A cursor of another database (or of this one before a restore) would read nothing for long,
      // then skip what came meanwhile: refused before the response starts, as a malformed one is.
      if (now === undefined && resumeAfter !== undefined) {
        await notifications.checkResumePoint(resumeAfter).catch((error: unknown) => {
          throw named(lastEventId !== undefined, error);
        });
      }
      // Without following, the answer is what can be read now: its first page is read here, so that
      // a database out of reach is a 503, not an empty 200 that reads as "nothing new". A following
      // feed starts at once and waits for the database instead (as it does when the database goes
      // away later): EventSource gives up on an answer other than 200.
      const batches = follow ? items : await startedOn(items);
      // Each open feed polls the database: a key may not hold an unbounded number of them.
      if ([...open].filter((feed) => feed.keyId === keyId).length >= maxFeedsPerKey) throw new TooManyFeedsError(maxFeedsPerKey, FEEDS_FULL_RETRY_AFTER_SECONDS);
      // Many keys together would otherwise hold any number: every feed polls, and slows every other request.
      if (open.size >= maxFeedsPerInstance) throw new FeedCapacityReachedError(maxFeedsPerInstance, FEEDS_FULL_RETRY_AFTER_SECONDS);

      reply.hijack();
      const res = reply.raw;
      let closed = false;
      const settled = new Promise<void>((resolve) => {
        const close = () => {
          closed = true;
          controller.abort();
          resolve();
        };
        res.once('finish', resolve);
        res.once('close', close);
        // A response tells of its close once: a client that left while the handler awaited (its
        // key, the rate limit, the first page) has been told already, and its feed would poll,
        // holding its place, until shutdown.
        if (res.destroyed) close();
      });
      // Hijacked replies skip onSend: headers set by hooks (rate limits) and x-request-id are carried over here.
      res.writeHead(200, {
        ...definedHeaders(reply.getHeaders()),
        'content-type': EVENT_STREAM_MEDIA_TYPE,
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      res.flushHeaders();
      // An id with no data sets the client's Last-Event-ID without an event: a reconnect before the
      // first message resumes from the start, rather than from a later "now" that would skip what came between.
      if (now !== undefined) res.write(`id: ${now.after}\n\n`);

      // A key revoked while its feed is open ends the feed, as it would refuse the next request: at
      // once when revoked through this instance, else at the next look-up (until 2026-12-06 only
      // that, every 30 s: a feed of a key revoked here went on for 28 s; probe of access under load).
      const unlisten = revocations.listen((revoked) => revoked === keyId && controller.abort());
      // One look-up at a time: with the database slow, look-ups a second apart piled up in the pool (review).
      let looking = false;
      const lookUp = () => {
        if (looking) return;
        looking = true;
        keys
          .isApiKeyActive(keyId)
          .then(
            (active) => active || controller.abort(),
            () => {},
          )
          .finally(() => {
            looking = false;
          });
      };
      // Once now: a revocation here between the key's check and the listener above is seen by it (review).
      lookUp();
      const recheck = setInterval(lookUp, Math.max(keyRecheckMs, 1000));
      const feed: OpenFeed = {
        keyId,
        stop: () => controller.abort(),
        done: pump(res, batches, controller.signal, request.log).then(async () => {
          res.end();
          await Promise.race([settled, sleep(CLOSE_GRACE_MS, undefined, { ref: false })]);
          if (!closed && !res.writableFinished) res.destroy();
        }),
      };
      open.add(feed);
      onFeedsOpen?.(open.size);
      await feed.done;
      clearInterval(recheck);
      unlisten();
      open.delete(feed);
      onFeedsOpen?.(open.size);
    },
  );
};

/** The same batches, the first of them read already: a failure to read it is thrown here. */
async function startedOn<T>(items: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  const rest: AsyncIterable<T> = { [Symbol.asyncIterator]: () => iterator };
  return (async function* () {
    if (first.done === true) return;
    yield first.value;
    // Delegated, so that a feed stopped early ends the iteration it started.
    yield* rest;
  })();
}

/** Writes batches as they come, waiting while the client is slow; never throws. */
async function pump(res: ServerResponse, items: AsyncIterable<readonly FeedItem[]>, signal: AbortSignal, log: FastifyBaseLogger): Promise<void> {
  const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  try {
    for await (const batch of items) {
      if (signal.aborted) break;
      if (!res.write(batch.map(toEventFrame).join(''))) await once(res, 'drain', { signal });
    }
  } catch (err) {
    // Stopping interrupts a wait for 'drain'; that is no failure. A failed read is: the client resumes from its last id.
    if (!signal.aborted) log.error({ err }, 'feed ended: reading notifications failed');
  } finally {
    clearInterval(keepAlive);
  }
}

const toEventFrame = (item: FeedItem): string => `id: ${item.cursor}\nevent: ${item.topic}\ndata: ${JSON.stringify(item.message)}\n\n`;

const definedHeaders = (headers: Record<string, number | string | string[] | undefined>) =>
  Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, number | string | string[]] => entry[1] !== undefined));
