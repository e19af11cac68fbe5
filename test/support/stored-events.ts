import { Precision } from '../../src/domain/fuzzy-date.js';
import type { RecordedEvent } from '../../src/domain/recorded-event.js';
import type { Db } from '../../src/store/database.js';

/** A program's events as stored, in position order (optionally of some types): what tests check against. */
export async function selectEvents(db: Db, selection: { programId: string; types?: readonly string[] }): Promise<RecordedEvent[]> {
  let query = db.selectFrom('event').selectAll().where('program_id', '=', selection.programId);
  if (selection.types !== undefined) query = query.where('type', 'in', [...selection.types]);
  const rows = await query.orderBy('position').execute();
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    schemaVersion: row.schema_version,
    stream: row.stream,
    streamVersion: row.stream_version,
    position: Number(row.position),
    occurredAt: { value: row.occurred_value, precision: Precision.parse(row.occurred_precision), start: row.occurred_start, end: row.occurred_end },
    recordedAt: row.recorded_at,
    data: row.data,
    sources: row.sources,
    metadata: row.metadata,
  }));
}
