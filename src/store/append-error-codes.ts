/**
 * The SQLSTATEs of class ML that append_events() raises (db/functions/append_events.sql, through
 * ml_fail) and the store turns into domain errors: the one list both sides answer to. Applying the
 * functions refuses a code not listed here (db/functions.ts), and a test holds the two equal.
 */
export const APPEND_ERROR_CODES = {
  idempotencyKeyReused: 'MLIDK',
  versionConflict: 'MLVER',
  unknownReference: 'MLREF',
  alreadyDefined: 'MLDUP',
  retractionRefused: 'MLRET',
} as const;

export type AppendErrorCode = (typeof APPEND_ERROR_CODES)[keyof typeof APPEND_ERROR_CODES];

const KNOWN: ReadonlySet<string> = new Set(Object.values(APPEND_ERROR_CODES));

export const isAppendErrorCode = (code: string): code is AppendErrorCode => KNOWN.has(code);

/** The ML codes a piece of SQL raises through ml_fail(). */
export const appendErrorCodesIn = (text: string): string[] => [...text.matchAll(/ml_fail\('(ML[A-Z0-9]{3})'/g)].map((m) => m[1] ?? '');
