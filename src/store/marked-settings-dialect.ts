import { CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type QueryCompiler, type TransactionSettings } from 'kysely';
import { isMarkedPrepared, MARKED_PLANNER_SETTINGS } from './prepared-statement.js';

/*
 * The embedded database (PGlite) runs a marked statement (prepared-statement.ts) under
 * MARKED_PLANNER_SETTINGS, as the pool does on a server (callback-query-pool.ts): set before it and
 * reset before the next unmarked statement, outside a transaction, one statement more each time
 * the kind changes. PGlite is one session, whatever connection object its driver hands out: the
 * driver keeps that session's state. PGlite prepares nothing, but plan_cache_mode, among the
 * settings, has it plan the statement as a generic plan, as on a server. And it never has
 * statistics (it runs no autovacuum): without these settings, it took a page of a small program's
 * feed for a few rows, read them all by a bitmap and sorted them.
 */

const names = MARKED_PLANNER_SETTINGS.map((s) => `'${s.name}'`).join(', ');
/** One statement each way: PGlite runs one statement a query. */
const SET_MARKED = CompiledQuery.raw(`select ${MARKED_PLANNER_SETTINGS.map((s) => `set_config('${s.name}', '${s.value}', false)`).join(', ')}`);
const RESET_MARKED = CompiledQuery.raw(`select set_config(name, reset_val, false) from pg_settings where name in (${names})`);

/** The inner dialect, its marked statements run under MARKED_PLANNER_SETTINGS. */
export function withMarkedSettings(inner: Dialect): Dialect {
  return {
    createDriver: () => new MarkedSettingsDriver(inner.createDriver()),
    createQueryCompiler: (): QueryCompiler => inner.createQueryCompiler(),
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
  };
}

class MarkedSettingsDriver implements Driver {
  readonly #inner: Driver;
  readonly #innerConnections = new WeakMap<DatabaseConnection, DatabaseConnection>();
  /** Whether the session runs under the marked settings now, and whether in a transaction. */
  #marked = false;
  #inTransaction = false;

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return this.#inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.#inner.acquireConnection();
    const outer: DatabaseConnection = {
      executeQuery: async (query) => {
        const marked = isMarkedPrepared(query.sql);
        if (!this.#inTransaction && marked !== this.#marked) {
          await inner.executeQuery(marked ? SET_MARKED : RESET_MARKED);
          this.#marked = marked;
        }
        return inner.executeQuery(query);
      },
      streamQuery: (query, chunkSize) => inner.streamQuery(query, chunkSize),
    };
    this.#innerConnections.set(outer, inner);
    return outer;
  }

  // A transaction plans its statements under the server's own settings, as on a server: its BEGIN,
  // unmarked and outside a transaction, resets them (acquireConnection) if they were set. The inner
  // driver sends BEGIN, COMMIT and ROLLBACK through the connection it is given: this one's.
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.#inner.beginTransaction(connection, settings);
    this.#inTransaction = true;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.commitTransaction(connection);
    } finally {
      this.#inTransaction = false;
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.#inner.rollbackTransaction(connection);
    } finally {
      this.#inTransaction = false;
    }
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }

  #innerOf(connection: DatabaseConnection): DatabaseConnection {
    return this.#innerConnections.get(connection) ?? connection;
  }
}
