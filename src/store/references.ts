import type { ReferenceKind } from '../domain/event-references.js';
import type { Db } from './database.js';

/**
 * The defined ids a mistyped reference may have meant: every program or consortium, or the
 * milestones of the same program. Read only when an append has been refused, so its cost falls on
 * a writer's mistake, not on any append or view.
 */
export async function findReferenceCandidates(db: Db, kind: ReferenceKind, key: string): Promise<string[]> {
  if (kind === 'milestone') {
    const [programId = ''] = key.split('/');
    const rows = await db
      .selectFrom('reference')
      .select('key')
      .where('kind', '=', 'milestone')
      .where('key', 'like', `${programId.replace(/[\\%_]/g, '\\$&')}/%`)
      .execute();
    return rows.map((r) => r.key);
  }
  if (kind !== 'program' && kind !== 'consortium') return [];
  const rows = await db.selectFrom('reference').select('key').where('kind', '=', kind).execute();
  return rows.map((r) => r.key);
}
