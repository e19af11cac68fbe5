import type { Db } from '../../src/store/database.js';
import { onEachStatement } from './statement-hook.js';

/**
 * The same database, but the answer of each statement whose SQL includes `fragment` reaches the
 * caller only once `hold()` resolves: a slow network, a busy event loop, or a race set up on purpose.
 * The connection stays checked out meanwhile, as it does while the driver reads a result. Statements
 * sent already compiled (shaped statements) are held too.
 */
export function holdingResults(db: Db, fragment: string, hold: () => Promise<void>): Db {
  return onEachStatement(db, async (query) => {
    if (query.sql.includes(fragment)) await hold();
  });
}
