import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';

/*
 * The pool Kysely's PostgresDialect runs on: node-postgres's own, whose clients send each statement
 * through pg's callback API rather than its promise one. Measured in Node CPU, sequentially on a
 * 60k-event history: a busy program's cells read with pool.connect() and the promise form of
 * client.query took 1.2 to 1.5 ms a statement, with the callback form 0.6 to 0.75 (three runs of
 * 3,000 each, process.cpuUsage); the cold program's matrix at 32 clients took 1.8 ms of the
 * service's CPU a request before, 1.07 after. Why the promise form costs more we did not find (more
 * garbage collection, by the CPU profile). Nothing else changes: the same client, errors and release.
 */

const COMMANDS = ['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE'] as const;
type Command = PostgresQueryResult<unknown>['command'];
const isCommand = (command: string): command is Command => COMMANDS.some((c) => c === command);

class CallbackQueryClient implements PostgresPoolClient {
  readonly #client: pg.PoolClient;

  constructor(client: pg.PoolClient) {
    this.#client = client;
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(statement: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely asks for a cursor only to stream, which this project's dialect is not configured for.
    if (typeof statement !== 'string') throw new Error('streaming queries are not configured');
    return new Promise((resolve, reject) => {
      this.#client.query<R & pg.QueryResultRow>(statement, [...parameters], (error, result) => {
        // pg rethrows what its callback throws on the next tick, where nothing would catch it.
        try {
          if (error) reject(error);
          // Kysely reads the command only to count the rows a write affected; any other is a read.
          else resolve({ command: isCommand(result.command) ? result.command : 'SELECT', rowCount: result.rowCount ?? 0, rows: result.rows });
        } catch (thrown) {
          reject(thrown instanceof Error ? thrown : new Error(String(thrown)));
        }
      });
    });
  }

  release(): void {
    this.#client.release();
  }
}

export function callbackQueryPool(pool: pg.Pool): PostgresPool {
  // One wrapper a client, as Kysely keeps one connection object a client (a WeakMap keyed by it).
  const wrappers = new WeakMap<pg.PoolClient, CallbackQueryClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      const known = wrappers.get(client);
      if (known !== undefined) return known;
      const wrapper = new CallbackQueryClient(client);
      wrappers.set(client, wrapper);
      return wrapper;
    },
    end: () => pool.end(),
  };
}
