import { sql, type Kysely } from 'kysely';
import { cellRoles, statusTransitions } from '../src/domain/status-rules.js';

/**
 * Writes the catalogue's rules (src/domain) for the projection's SQL: each type's role
 * (event_type_rule), and each status change a type makes, as the function the folds read
 * (status_transitions()) and as the table status_transition, which no function reads any more and
 * which is kept so that the rule can be read in SQL and so that a fold of the previous release,
 * still running while an instance migrates, finds it. Adding a fact type or changing an effect is
 * a change to the catalogue alone; this rewrites them all at the next migration run. It sends the
 * same statements whatever the database holds: the functions' digest is taken from them (db/functions.ts).
 */
export async function writeCatalogueRules<DB>(db: Kysely<DB>): Promise<void> {
  const roles = JSON.stringify(cellRoles());
  const transitions = JSON.stringify(statusTransitions());
  await sql`delete from event_type_rule`.execute(db);
  await sql`
    insert into event_type_rule (type, role)
    select x.type, x.role from jsonb_to_recordset(${roles}::jsonb) as x(type text, role text)`.execute(db);
  await sql`delete from status_transition`.execute(db);
  await sql`
    insert into status_transition (type, from_status, to_status)
    select x.type, x."from", x."to" from jsonb_to_recordset(${transitions}::jsonb) as x(type text, "from" text, "to" text)`.execute(db);
  // The same transitions as one map, '<type> <from>' to '<to>': immutable, so a fold's plan holds it
  // as a constant and reads no table per event (fold_cell.sql).
  const map = JSON.stringify(Object.fromEntries(statusTransitions().map((t) => [`${t.type} ${t.from}`, t.to])));
  await sql`
    create or replace function status_transitions() returns jsonb language sql immutable parallel safe
    as ${sql.lit(`select '${map.replaceAll("'", "''")}'::jsonb`)}`.execute(db);
}
