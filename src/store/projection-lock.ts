import { sql } from 'kysely';

/**
 * The advisory lock of the projection as a whole. Appends take it shared before they write anything
 * (db/functions/lock_projection.sql spells the same key); the rebuild's table switch and the
 * migrator take it exclusively, so that no append runs between what they change together.
 */
export const PROJECTION_LOCK = sql<string>`hashtextextended('projection', 0)`;
