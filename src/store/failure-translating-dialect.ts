import type {
  CompiledQuery,
  DatabaseConnection,
  DatabaseIntrospector,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { translateDatabaseError } from './database-failure.js';

/**
 * A dialect that lets every query, transaction and connection of another one pass, and turns the
 * errors of a lost database into domain errors (translateDatabaseError) on their way out. Every
 * Kysely path (queries, transactions, the migrator, streams) goes through a driver, so this is
 * the one place they are translated.
 */
export class FailureTranslatingDialect implements Dialect {
  readonly #inner: Dialect;

  constructor(inner: Dialect) {
    this.#inner = inner;
  }

  createDriver(): Driver {
    return new FailureTranslatingDriver(this.#inner.createDriver());
  }

  createQueryCompiler(): QueryCompiler {
    return this.#inner.createQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return this.#inner.createAdapter();
  }

  // Kysely's own signature: the introspector serves any schema.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return this.#inner.createIntrospector(db);
  }
}

type CompileQuery = QueryCompiler['compileQuery'];

class FailureTranslatingDriver implements Driver {
  readonly #inner: Driver;
  // The inner driver releases only the connection object it handed out (a private field on it).
  readonly #innerConnections = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(inner: Driver) {
    this.#inner = inner;
  }

  init(): Promise<void> {
    return translated(() => this.#inner.init(), false);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await translated(() => this.#inner.acquireConnection(), false);
    const outer: DatabaseConnection = {
      executeQuery: <R>(query: CompiledQuery) => translated(() => inner.executeQuery<R>(query), true),
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => translatedStream(inner.streamQuery<R>(query, chunkSize)),
    };
    this.#innerConnections.set(outer, inner);
    return outer;
  }

  // Transaction statements (BEGIN, COMMIT, …) go through the translating connection: a COMMIT whose
  // connection dies is a statement sent, with an outcome nobody knows.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#inner.rollbackTransaction(connection);
  }

  savepoint(connection: DatabaseConnection, name: string, compileQuery: CompileQuery): Promise<void> {
    if (this.#inner.savepoint === undefined) throw new Error('this dialect has no savepoints');
    return this.#inner.savepoint(connection, name, compileQuery);
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: CompileQuery): Promise<void> {
    if (this.#inner.rollbackToSavepoint === undefined) throw new Error('this dialect has no savepoints');
    return this.#inner.rollbackToSavepoint(connection, name, compileQuery);
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: CompileQuery): Promise<void> {
    if (this.#inner.releaseSavepoint === undefined) throw new Error('this dialect has no savepoints');
    return this.#inner.releaseSavepoint(connection, name, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#innerConnections.get(connection) ?? connection);
  }

  destroy(): Promise<void> {
    return this.#inner.destroy();
  }
}

async function translated<T>(run: () => Promise<T>, querySent: boolean): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw translateDatabaseError(error, querySent);
  }
}

async function* translatedStream<R>(rows: AsyncIterableIterator<QueryResult<R>>): AsyncIterableIterator<QueryResult<R>> {
  try {
    yield* rows;
  } catch (error) {
    throw translateDatabaseError(error, true);
  }
}
