import { z } from 'zod';
import { DatabaseUnavailableError, StatementTimeoutError } from '../domain/errors.js';

const Coded = z.object({ code: z.string() });
const Messaged = z.object({ message: z.string() });

// SQLSTATE 57P01 admin shutdown (pg_terminate_backend, a fast shutdown), 57P02 crash shutdown,
// 57P03 cannot connect now (starting up, in recovery); class 08 is every connection exception.
const CONNECTION_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
// Node's socket errors when the server is down, restarting or unreachable.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres and pg-pool report a lost connection or a connect timeout as a plain Error.
const LOST_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];
// These two are raised before anything is written to the socket: the statement never left.
const NOT_SENT_MESSAGES = ['is not queryable', 'timeout exceeded when trying to connect'];
const QUERY_CANCELED = '57014';
/*
 * SQLSTATE 0A000 (feature not supported) is, for the service's own statements, the one failure a
 * prepared statement meets when a table it reads changed its columns under it ("cached plan must
 * not change result type": a migration run by another instance). The statement did not run; it
 * fails the same way on that connection until the connection is closed (callback-query-pool.ts).
 */
const STALE_PREPARED_STATEMENT = '0A000';

/** Whether a prepared statement failed because a table it reads changed its columns under it. */
export const isStalePreparedStatement = (error: unknown): boolean => Coded.safeParse(error).data?.code === STALE_PREPARED_STATEMENT;

/**
 * The one place that recognises how pg reports a database the service cannot reach, and a statement
 * the statement timeout cancelled, and turns them into domain errors; anything else is returned as is.
 * `querySent`: whether the statement may have reached the server (false while acquiring a connection).
 */
export function translateDatabaseError(error: unknown, querySent: boolean): unknown {
  if (error instanceof DatabaseUnavailableError || error instanceof StatementTimeoutError) return error;
  const code = Coded.safeParse(error).data?.code;
  const message = Messaged.safeParse(error).data?.message ?? '';
  if (code === QUERY_CANCELED) return new StatementTimeoutError({ cause: error });
  // Nothing ran, and the connection that held the plan is gone: a retry prepares it afresh.
  if (isStalePreparedStatement(error)) return new DatabaseUnavailableError(false, { cause: error });
  const lost =
    (code !== undefined && (code.startsWith('08') || CONNECTION_SQLSTATES.has(code) || SOCKET_CODES.has(code))) ||
    LOST_CONNECTION_MESSAGES.some((text) => message.startsWith(text));
  if (!lost) return error;
  const sent = querySent && !NOT_SENT_MESSAGES.some((text) => message.includes(text));
  return new DatabaseUnavailableError(sent, { cause: error });
}
