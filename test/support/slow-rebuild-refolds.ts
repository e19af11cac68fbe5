import { sql } from 'kysely';
import type { Db } from '../../src/store/database.js';

const SIGNATURE = 'text, text, text, timestamptz, bigint, timestamptz';

/** A text as an SQL literal: ids are slugs, but the quote is doubled all the same. */
const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Slows every re-fold of the rebuild, and of the rebuild only: supersede_steps, which every re-fold
 * goes through, is put behind a function that, in a session on the rebuild's search_path (and for
 * `programId`'s cells alone, if given), first waits for the advisory lock `gate` (if given) to be
 * free, then sleeps `seconds`. Appends go at their own pace. Returns what puts the function back.
 */
export async function slowRebuildRefolds(
  db: Db,
  { seconds, gate, programId }: { readonly seconds: number; readonly gate?: number; readonly programId?: string },
): Promise<() => Promise<void>> {
  await sql.raw(`alter function supersede_steps(${SIGNATURE}) rename to supersede_steps_timed`).execute(db);
  await sql.raw(`
    create function supersede_steps(p_program text, p_milestone text, p_consortium text,
                                    p_from_start timestamptz, p_from_position bigint, p_known timestamptz)
    returns uuid[] language plpgsql as $$
    begin
      if current_setting('search_path') like 'ml_rebuild%' ${programId === undefined ? '' : `and p_program = ${sqlText(programId)}`} then
        ${gate === undefined ? '' : `perform pg_advisory_lock_shared(${gate}); perform pg_advisory_unlock_shared(${gate});`}
        perform pg_sleep(${seconds});
      end if;
      return supersede_steps_timed(p_program, p_milestone, p_consortium, p_from_start, p_from_position, p_known);
    end $$`).execute(db);
  return async () => {
    await sql.raw(`drop function supersede_steps(${SIGNATURE})`).execute(db);
    await sql.raw(`alter function supersede_steps_timed(${SIGNATURE}) rename to supersede_steps`).execute(db);
  };
}
