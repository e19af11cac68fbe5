import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { isStalePreparedStatement } from './database-failure.js';

/*
 * The pool Kysely's PostgresDialect runs on: node-postgres's own, whose clients send each statement
 * through pg's callback API rather than its promise one. Measured in Node CPU, sequentially on a
 * 60k-event history: a busy program's cells read with pool.connect() and the promise form of
 * client.query took 1.2 to 1.5 ms a statement, with the callback form 0.6 to 0.75 (three runs of
 * 3,000 each, process.cpuUsage); the cold program's matrix at 32 clients took 1.8 ms of the
 * service's CPU a request before, 1.07 after. Why the promise form costs more we did not find (more
 * garbage collection, by the CPU profile). Nothing else changes: the same client, errors and release.
 *
 * Each statement is also sent as a named (prepared) one, so that a connection parses and plans it
 * once and PostgreSQL may keep a generic plan for it: an unnamed statement is parsed and planned on
 * every execution. The views' statements are many-join lateral look-ups whose planning cost more
 * than running them: measured on a 200k-event history, one connection, sequentially, the busy
 * matrix at asOf and knownAt took 11.1 to 13.8 ms of the server's CPU a statement unnamed, 4.1 to 6.3 named; a
 * program's milestones 180 µs against 45 (StatementNames).
 */

/** Only these are prepared: transaction control, SET and DDL are sent as they are. */
const PREPARABLE = /^\s*(select|with|insert|update|delete)\b/i;
/**
 * Distinct statements named per pool, a bound on what each of its connections keeps prepared on
 * the server (a plan each); statements beyond it run unnamed. The service's own are far fewer;
 * texts that vary with a list's length (an IN of n values) are what could grow past it.
 */
export const MAX_NAMED_STATEMENTS = 256;

/** Names a pool's statements by their text, the same name on every connection. */
export class StatementNames {
  readonly #names = new Map<string, string>();

  nameOf(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined || this.#names.size >= MAX_NAMED_STATEMENTS || !PREPARABLE.test(text)) return known;
    const name = `ml_${this.#names.size + 1}`;
    this.#names.set(text, name);
    return name;
  }

  get size(): number {
    return this.#names.size;
  }
}


const COMMANDS = ['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE'] as const;
type Command = PostgresQueryResult<unknown>['command'];
const isCommand = (command: string): command is Command => COMMANDS.some((c) => c === command);

class CallbackQueryClient implements PostgresPoolClient {
  readonly #client: pg.PoolClient;
  readonly #names: StatementNames;
  #stale = false;

  constructor(client: pg.PoolClient, names: StatementNames) {
    this.#client = client;
    this.#names = names;
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(statement: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely asks for a cursor only to stream, which this project's dialect is not configured for.
    if (typeof statement !== 'string') throw new Error('streaming queries are not configured');
    return new Promise((resolve, reject) => {
      const config = { name: this.#names.nameOf(statement), text: statement, values: [...parameters] };
      this.#client.query<R & pg.QueryResultRow>(config, (error, result) => {
        // pg rethrows what its callback throws on the next tick, where nothing would catch it.
        try {
          if (error) {
            // It would fail the same way on every later use of this connection: close it.
            if (config.name !== undefined && isStalePreparedStatement(error)) this.#stale = true;
            reject(error);
          }
          // Kysely reads the command only to count the rows a write affected; any other is a read.
          else resolve({ command: isCommand(result.command) ? result.command : 'SELECT', rowCount: result.rowCount ?? 0, rows: result.rows });
        } catch (thrown) {
          reject(thrown instanceof Error ? thrown : new Error(String(thrown)));
        }
      });
    });
  }

  release(): void {
    this.#client.release(this.#stale);
  }
}

export function callbackQueryPool(pool: pg.Pool, names = new StatementNames()): PostgresPool {
  // One wrapper a client, as Kysely keeps one connection object a client (a WeakMap keyed by it).
  const wrappers = new WeakMap<pg.PoolClient, CallbackQueryClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      const known = wrappers.get(client);
      if (known !== undefined) return known;
      const wrapper = new CallbackQueryClient(client, names);
      wrappers.set(client, wrapper);
      return wrapper;
    },
    end: () => pool.end(),
  };
}
