import { sql } from 'kysely';
import type { Db } from '../../src/store/database.js';

/** How many events this file's database holds: a refused request must leave it unchanged. */
export async function countEvents(db: Db): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from event`.execute(db);
  return rows[0]?.n ?? -1;
}
