import type { ReferenceKind } from '../domain/event-references.js';
import type { Db } from './database.js';

/**
 * The defined ids a mistyped reference may have meant: every program or consortium, or the
 * milestones of the same program. Read only when an append has been refused or a view finds no such
 * subject (a 404), so its cost falls on the mistake, not on an append or a view that finds it.
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
