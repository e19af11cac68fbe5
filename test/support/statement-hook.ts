import { isCompilable, type AccessMode, type CompiledQuery, type IsolationLevel, type Kysely, type KyselyPlugin, type QueryId, type Transaction, type TransactionBuilder } from 'kysely';
import type { Database, Db } from '../../src/store/database.js';

/**
 * The database handle `db`, calling `sent` after each statement it sends and before its result
 * returns to the caller: a statement a query builder compiles, and one sent already compiled
 * (src/store/shaped-statement.ts), by the handle or by a transaction it opens.
 */
export function onEachStatement(db: Db, sent: (query: CompiledQuery) => Promise<void> | void): Db {
  const executor = db.getExecutor();
  // A query built inside another (a subquery) passes through transformQuery too, but only a
  // statement sent to the database comes back through transformResult: that one is reported.
  const compiled = new Map<QueryId, CompiledQuery>();
  const plugin: KyselyPlugin = {
    transformQuery: ({ node, queryId }) => {
      compiled.set(queryId, executor.compileQuery(node, queryId));
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      const query = compiled.get(queryId);
      compiled.delete(queryId);
      if (query !== undefined) await sent(query);
      return result;
    },
  };
  // A statement sent already compiled passes no plugin's transformQuery: it is reported as it is
  // sent, by the Kysely, or by the transaction, that sends it. Kysely's own methods run on the
  // Kysely itself, whose private fields a proxy does not have.
  const reporting = <K extends Kysely<Database>>(kysely: K): K =>
    new Proxy(kysely, {
      get: (target, property) => {
        if (property === 'executeQuery') {
          const executeQuery: Db['executeQuery'] = async (query) => {
            const result = await target.executeQuery(query);
            if (!isCompilable(query)) await sent(query);
            return result;
          };
          return executeQuery;
        }
        if (property === 'transaction') return () => reportingTransaction(target.transaction());
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const reportingTransaction = (builder: TransactionBuilder<Database>): TransactionBuilder<Database> =>
    new Proxy(builder, {
      get: (target, property) => {
        if (property === 'setIsolationLevel') return (level: IsolationLevel) => reportingTransaction(target.setIsolationLevel(level));
        if (property === 'setAccessMode') return (mode: AccessMode) => reportingTransaction(target.setAccessMode(mode));
        if (property === 'execute') return async <T>(callback: (trx: Transaction<Database>) => Promise<T>) => target.execute(async (trx) => callback(reporting(trx)));
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return reporting(db.withPlugin(plugin));
}
