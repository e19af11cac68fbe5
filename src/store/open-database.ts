import { mkdir } from 'node:fs/promises';
import { PGlite, types } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import type { Database } from './database.js';
import { callbackQueryPool } from './callback-query-pool.js';
import { DataDirUnusableError, lockDataDir } from './data-dir-lock.js';
import { FailureTranslatingDialect } from './failure-translating-dialect.js';
import { codeOf } from './system-error-code.js';
import { withMarkedSettings } from './marked-settings-dialect.js';

export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number }
  | {
      readonly kind: 'pglite';
      readonly dataDir: string | undefined;
      /** A dump (PGlite dumpDataDir) to start from instead of an empty database. */
      readonly snapshot?: Blob;
    };

export interface OpenOptions {
  /**
   * On a PostgreSQL server, cancels any statement that runs longer (DATABASE_STATEMENT_TIMEOUT_MS).
   * The service sets it for its requests; the projection rebuild and `npm run migrate` open the
   * database without it, and the service runs its migrations on `unbounded`, without it.
   */
  readonly statementTimeoutMs?: number;
  /**
   * With a statement timeout, how much longer the client waits for an answer to a statement before
   * it gives its connection up (RESPONSE_MARGIN_MS unless given).
   */
  readonly responseMarginMs?: number;
}

export interface OpenDatabase {
  readonly db: Kysely<Database>;
  readonly target: DatabaseTarget['kind'];
  /** A PostgreSQL server runs transactions side by side; PGlite runs one connection at a time. */
  readonly concurrentTransactions: boolean;
  /**
   * Calls `onNotify` on each NOTIFY on `channel` (delivered at the writer's commit) until the
   * returned function is called. Best effort: a lost connection is reopened, and callers poll too.
   */
  readonly listen: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>;
  /**
   * Runs `work` on the same database without the statement timeout and the answer deadline: for the
   * migrations and the rebuild the service runs at start, which may rightly take minutes. On a
   * server, on connections of their own, closed after.
   */
  readonly unbounded: <T>(work: (db: Kysely<Database>) => Promise<T>) => Promise<T>;
  /** The instance's pool's connections now, for the metrics; undefined on PGlite, which has none. */
  readonly poolUse: (() => PoolUse) | undefined;
}

export interface PoolUse {
  readonly size: number;
  readonly open: number;
  readonly idle: number;
  readonly waiting: number;
}

// Without this, a forgotten open transaction would hold back the feed horizon for every reader.
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;
// A server that does not answer (a failover under way, a dropped network) must not hold every request:
// a connection that is not open by then is an outage, answered 503.
export const CONNECT_TIMEOUT_MS = 5_000;
/*
 * The server cancels a statement at its statement timeout and says so. A network that drops packets
 * without closing the connection (a partition, a host gone without a reset) gets no such answer: the
 * client waits this much longer, then closes the connection, and the statement fails as on a lost one.
 */
export const RESPONSE_MARGIN_MS = 5_000;
/** DATABASE_STATEMENT_TIMEOUT_MS unless set: longer than any request should take, shorter than a client's patience. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
// A connection held open without traffic (a transaction between statements, LISTEN) is probed, so
// that one whose server vanished is found and closed; idle pooled ones are closed after 10 s anyway.
const KEEP_ALIVE_DELAY_MS = 10_000;

/**
 * Opens the database the service runs on: a PostgreSQL server, or PGlite embedded in the process
 * (kept in `dataDir`, or in memory when it is undefined). The same migrations and queries serve both.
 */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<OpenDatabase> {
  if (target.kind === 'postgres') {
    const { db, pool } = openServerPool(target, options);
    return {
      db,
      poolUse: () => ({ size: target.poolSize, open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      target: 'postgres',
      concurrentTransactions: true,
      listen: (channel, onNotify) => listenOnServer(target.url, channel, onNotify),
      unbounded: async (work) => {
        const { db } = openServerPool(target, {});
        try {
          return await work(db);
        } finally {
          await db.destroy();
        }
      },
    };
  }
  return openPglite(await createPglite(target.dataDir, target.snapshot));
}

function openServerPool(target: { readonly url: string; readonly poolSize: number }, options: OpenOptions): { readonly db: Kysely<Database>; readonly pool: pg.Pool } {
  // UTC whatever the server's or the database's zone: the views read instants the database writes
  // as JSON text, in the session's zone, and a zone before its standard time (Europe/Amsterdam
  // before 1937) writes offsets in seconds, which JavaScript's Date does not read.
  const settings = [`-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_TIMEOUT_MS}`, '-c TimeZone=UTC'];
  if (options.statementTimeoutMs !== undefined) settings.push(`-c statement_timeout=${options.statementTimeoutMs}`);
  const pool = new pg.Pool({
    connectionString: target.url,
    max: target.poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEP_ALIVE_DELAY_MS,
    options: settings.join(' '),
  });
  // An idle connection the server closed (restart, failover) is dropped by the pool and replaced
  // on demand; without a listener the 'error' event would crash the process.
  pool.on('error', () => {});
  // pg-pool listens for errors only on idle clients. A checked-out client (between two statements
  // of a transaction, or just acquired) that loses its server emits 'error' with nobody listening,
  // which would crash the process. The statement in flight, or the next one, fails on its own and
  // the pool discards the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const answerDeadlineMs = options.statementTimeoutMs === undefined ? undefined : options.statementTimeoutMs + (options.responseMarginMs ?? RESPONSE_MARGIN_MS);
  return { db: new Kysely<Database>({ dialect: new FailureTranslatingDialect(new PostgresDialect({ pool: callbackQueryPool(pool, answerDeadlineMs) })) }), pool };
}

/**
 * Emscripten's numbers for the errors a folder gives (its own table, not the system's): "errno 51"
 * told a user nothing of a full disk (found by the probe of the embedded database, 2026-12-07).
 */
const EMSCRIPTEN_ERRNO: Readonly<Record<number, string>> = {
  2: 'EACCES, permission denied',
  29: 'EIO, input/output error',
  44: 'ENOENT, no such file or directory',
  51: 'ENOSPC, no space left on the disk',
  63: 'EPERM, operation not permitted',
  69: 'EROFS, read-only file system',
};

/** What PGlite threw, in a few words: an Error's name and message, or the errno of Emscripten's ErrnoError (no Error). */
function pgliteFailure(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'object' && error !== null && 'errno' in error) {
    const said = typeof error.errno === 'number' ? EMSCRIPTEN_ERRNO[error.errno] : undefined;
    return `errno ${String(error.errno)}${said === undefined ? '' : `: ${said}`}`;
  }
  return String(error);
}

/**
 * Makes the folder. Node's recursive mkdir tells a folder it may not make in a read-only or
 * forbidden parent as ENOENT ("no such file or directory", found by the probe of the embedded
 * database, 2026-12-07): then a plain mkdir says why, where the parent exists.
 */
async function makeFolder(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
    try {
      await mkdir(dataDir);
    } catch (plain) {
      // EEXIST: a dangling symbolic link of that name, which the recursive mkdir told truly.
      throw codeOf(plain) === 'ENOENT' || codeOf(plain) === 'EEXIST' ? error : plain;
    }
  }
}

/** Starts embedded PostgreSQL, in `dataDir` or in memory, optionally from a dump. */
export async function createPglite(dataDir: string | undefined, snapshot?: Blob): Promise<PGlite> {
  let release = () => {};
  if (dataDir !== undefined) {
    await makeFolder(dataDir).catch((error: unknown) => {
      throw new DataDirUnusableError(dataDir, error);
    });
    release = await lockDataDir(dataDir);
  }
  // int8 as a string, as node-postgres returns it, so that both targets give the same values.
  const pglite = await PGlite.create(dataDir, {
    parsers: { [types.INT8]: (value: string) => value },
    ...(snapshot !== undefined && { loadDataDir: snapshot }),
  }).catch((error: unknown) => {
    release();
    // PGlite says a file it may not write, or a disk with no room, in WebAssembly's words
    // ("Aborted()", "ErrnoError 51"), naming no folder (found by the probe of the embedded database).
    if (dataDir === undefined) throw error;
    throw new DataDirUnusableError(
      dataDir,
      new Error(`the embedded database could not open its files (${pgliteFailure(error)}); check that this user may write every file in it, that its disk has room, and that it holds nothing but this service's database`, { cause: error }),
    );
  });
  // The folder is free again once the database is closed (Kysely's destroy closes it), not only at
  // exit: a process that prepared a folder and closed it hands it to another (the tests' services).
  const close = pglite.close.bind(pglite);
  pglite.close = async () => {
    await close();
    release();
  };
  // Its one session, in UTC as the server's are (openDatabase says why).
  await pglite.exec(`set time zone 'UTC'`);
  return pglite;
}

/** Kysely over an embedded database; destroying it closes the database. */
export function openPglite(pglite: PGlite): OpenDatabase {
  const db = new Kysely<Database>({ dialect: new FailureTranslatingDialect(withMarkedSettings(new PGliteDialect(pglite))) });
  return {
    db,
    target: 'pglite',
    concurrentTransactions: false,
    poolUse: undefined,
    listen: async (channel, onNotify) => {
      const unsubscribe = await pglite.listen(channel, onNotify);
      return unsubscribe;
    },
    // In the process, nothing times out and there is no network to lose.
    unbounded: (work) => work(db),
  };
}

const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];

/**
 * LISTEN needs a connection of its own, held for as long as the listener lives. A lost connection
 * is reopened with backoff, for as long as it takes; the caller is woken on each loss, since a
 * NOTIFY may have been missed, and keeps polling meanwhile.
 */
async function listenOnServer(url: string, channel: string, onNotify: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | undefined;
  let failures = 0;
  let reopened = false;
  const open = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, keepAlive: true, keepAliveInitialDelayMillis: KEEP_ALIVE_DELAY_MS, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    next.on('notification', (message) => {
      if (message.channel === channel) onNotify();
    });
    next.on('error', () => {
      if (client !== next) return;
      client = undefined;
      onNotify();
      void next.end().catch(() => {});
      retry();
    });
    try {
      await next.connect();
      await next.query(`listen ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
    failures = 0;
    // NOTIFYs sent while no connection listened are lost: wake the caller once more, now that it is back.
    if (reopened) onNotify();
    reopened = true;
  };
  const retry = () => {
    if (stopped) return;
    const delay = RECONNECT_DELAYS_MS[Math.min(failures, RECONNECT_DELAYS_MS.length - 1)] ?? 30_000;
    failures++;
    setTimeout(() => {
      if (!stopped) open().catch(retry);
    }, delay).unref();
  };
  await open();
  return async () => {
    stopped = true;
    const current = client;
    client = undefined;
    await current?.end();
  };
}
