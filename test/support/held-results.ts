import type { KyselyPlugin } from 'kysely';
import type { Db } from '../../src/store/database.js';

/**
 * The same database, but the answer of each statement whose SQL includes `fragment` reaches the
 * caller only once `hold()` resolves: a slow network, a busy event loop, or a race set up on purpose.
 * The connection stays checked out meanwhile, as it does while the driver reads a result.
 */
export function holdingResults(db: Db, fragment: string, hold: () => Promise<void>): Db {
  const executor = db.getExecutor();
  const held = new Set<unknown>();
  const plugin: KyselyPlugin = {
    transformQuery: ({ node, queryId }) => {
      if (executor.compileQuery(node, queryId).sql.includes(fragment)) held.add(queryId);
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      if (held.delete(queryId)) await hold();
      return result;
    },
  };
  return db.withPlugin(plugin);
}
