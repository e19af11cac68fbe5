import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';
import type pg from 'pg';
import { DatabaseUnavailableError } from '../domain/errors.js';
import { isStalePreparedStatement, translateDatabaseError } from './database-failure.js';
import { isMarkedPrepared, resetMarkedPlannerSettings, setMarkedPlannerSettings } from './prepared-statement.js';

/*
 * The pool Kysely's PostgresDialect runs on: node-postgres's own, whose clients send each statement
 * through pg's callback API rather than its promise one. Measured in Node CPU, sequentially on a
 * 60k-event history: a busy program's cells read with pool.connect() and the promise form of
 * client.query took 1.2 to 1.5 ms a statement, with the callback form 0.6 to 0.75 (three runs of
 * 3,000 each, process.cpuUsage); the cold program's matrix at 32 clients took 1.8 ms of the
 * service's CPU a request before, 1.07 after. Why the promise form costs more we did not find (more
 * garbage collection, by the CPU profile).
 *
 * A statement marked PREPARED (prepared-statement.ts) is sent as a named one instead: each
 * connection parses it once and runs its generic plan (made once, and again when PostgreSQL
 * invalidates it: a table replaced, new statistics). It is planned under MARKED_PLANNER_SETTINGS,
 * set on the connection before it and reset before the next unmarked statement: one round trip
 * more each time a connection goes from one kind to the other.
 * Both happen only outside a transaction, where a SET takes effect at once and for good, so the
 * client knows the connection's settings; every transaction, begun by an unmarked BEGIN, plans
 * its statements under the server's own (none marked runs in one today: a generic plan made there,
 * under the server's settings, would stay the connection's outside transactions too, and one made
 * under the marked settings would be reused there, as PostgreSQL does not replan on a change).
 */

// One round trip: node-postgres sends a statement without parameters as a simple query, which may hold several.
const SET_MARKED = setMarkedPlannerSettings('session').join('; ');
const RESET_MARKED = resetMarkedPlannerSettings().join('; ');

/**
 * Distinct statements named per pool, a bound on what each of its connections keeps prepared on
 * the server (a plan each); statements beyond it run unnamed. The marked statements are a few
 * dozen texts: their lists are arrays in one parameter, not IN lists of one parameter a value.
 */
const MAX_NAMED_STATEMENTS = 256;

/** Names a pool's marked statements by their text, the same name on every connection. */
class StatementNames {
  readonly #names = new Map<string, string>();

  nameOf(text: string): string | undefined {
    const known = this.#names.get(text);
    if (known !== undefined || this.#names.size >= MAX_NAMED_STATEMENTS || !isMarkedPrepared(text)) return known;
    const name = `ml_${this.#names.size + 1}`;
    this.#names.set(text, name);
    return name;
  }
}

const COMMANDS = ['UPDATE', 'DELETE', 'INSERT', 'SELECT', 'MERGE'] as const;
type Command = PostgresQueryResult<unknown>['command'];
const isCommand = (command: string): command is Command => COMMANDS.some((c) => c === command);

class CallbackQueryClient implements PostgresPoolClient {
  readonly #client: pg.PoolClient;
  readonly #names: StatementNames;
  readonly #answerDeadlineMs: number | undefined;
  #stale = false;
  /** Whether the connection runs under MARKED_PLANNER_SETTINGS now. */
  #markedSetting = false;

  constructor(client: pg.PoolClient, names: StatementNames, answerDeadlineMs: number | undefined) {
    this.#client = client;
    this.#names = names;
    this.#answerDeadlineMs = answerDeadlineMs;
  }

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(statement: string | PostgresCursor<R>, parameters: ReadonlyArray<unknown> = []): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely asks for a cursor only to stream, which this project's dialect is not configured for.
    if (typeof statement !== 'string') throw new Error('streaming queries are not configured');
    return new Promise((resolveQuery, rejectQuery) => {
      // No answer by the deadline: the connection is closed under the statement, which then fails
      // as on a connection the server closed ("Connection terminated unexpectedly"), and pg-pool
      // discards the client on release. The server's own statement timeout, shorter, answers first
      // whenever the server can still be heard. The deadline covers the call: a SET sent before
      // the statement (below) is one short round trip more. Settled any way, the call clears it.
      const deadline =
        this.#answerDeadlineMs === undefined ? undefined : setTimeout(() => this.#client.connection.stream.destroy(), this.#answerDeadlineMs);
      const resolve = (result: PostgresQueryResult<R>) => {
        clearTimeout(deadline);
        resolveQuery(result);
      };
      const reject = (error: unknown) => {
        clearTimeout(deadline);
        rejectQuery(error);
      };
      const settle = (error: Error | null, result: pg.QueryResult<R & pg.QueryResultRow>) => {
        // pg rethrows what its callback throws on the next tick, where nothing would catch it.
        try {
          if (error) reject(error);
          // Kysely reads the command only to count the rows a write affected; any other is a read.
          else resolve({ command: isCommand(result.command) ? result.command : 'SELECT', rowCount: result.rowCount ?? 0, rows: result.rows });
        } catch (thrown) {
          reject(thrown instanceof Error ? thrown : new Error(String(thrown)));
        }
      };
      const values = [...parameters];
      const runUnnamed = () => this.#client.query<R & pg.QueryResultRow>(statement, values, settle);
      // Read before the answer: whether the statement runs on its own, outside a transaction.
      const autocommit = this.#client.getTransactionStatus() === 'I';
      const run = () => {
        const name = this.#names.nameOf(statement);
        if (name === undefined) {
          runUnnamed();
          return;
        }
        this.#client.query<R & pg.QueryResultRow>({ name, text: statement, values }, (error, result) => {
          if (!error || !isStalePreparedStatement(error)) {
            settle(error, result);
            return;
          }
          // The plan is stale on this connection for good: it is closed when released. On its own the
          // statement did nothing, so it runs again unnamed; in a transaction, the transaction is lost.
          this.#stale = true;
          if (autocommit) runUnnamed();
          else reject(new DatabaseUnavailableError(false, { cause: error }));
        });
      };
      const marked = isMarkedPrepared(statement);
      if (!autocommit || marked === this.#markedSetting) {
        run();
        return;
      }
      this.#client.query(marked ? SET_MARKED : RESET_MARKED, (error: Error | null) => {
        if (error) {
          // The statement itself was not sent: a lost connection says so (translateDatabaseError).
          reject(translateDatabaseError(error, false));
          return;
        }
        this.#markedSetting = marked;
        run();
      });
    });
  }

  release(): void {
    this.#client.release(this.#stale);
  }
}

/** `answerDeadlineMs`: how long a statement may go unanswered before its connection is closed (none when undefined). */
export function callbackQueryPool(pool: pg.Pool, answerDeadlineMs?: number): PostgresPool {
  const names = new StatementNames();
  // One wrapper a client, as Kysely keeps one connection object a client (a WeakMap keyed by it).
  const wrappers = new WeakMap<pg.PoolClient, CallbackQueryClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      const known = wrappers.get(client);
      if (known !== undefined) return known;
      const wrapper = new CallbackQueryClient(client, names, answerDeadlineMs);
      wrappers.set(client, wrapper);
      return wrapper;
    },
    end: () => pool.end(),
  };
}
