import { z } from 'zod';
import { DatabaseFullError, DatabaseUnavailableError, StatementTimeoutError, TransactionConflictError } from '../domain/errors.js';

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
// pg-pool's, when no connection of a full pool came free in time; one it could not open fails
// "Connection terminated due to connection timeout" instead.
const POOL_BUSY_MESSAGE = 'timeout exceeded when trying to connect';
// What the server answers when it refuses a connection being made: 55000 the database not accepting
// connections (ALTER DATABASE … ALLOW_CONNECTIONS false), 53300 too many clients, 3D000 no such
// database; class 28, credentials refused. Listed, not any code: a statement other than a connection's
// (a setting the pool sets on a connection already open, sent with querySent false) failing with one
// of its own is a fault of the service's, to be seen as one.
const CONNECTION_REFUSED = new Set(['55000', '53300', '3D000']);
const QUERY_CANCELED = '57014';
// SQLSTATE 53100 disk full: the statement failed whole (a disk that fills while PostgreSQL needs a
// new WAL segment stops the server instead, which is an outage).
const DISK_FULL = '53100';
// SQLSTATE 40P01 deadlock detected, 40001 serialization failure: the transaction was rolled back.
const TRANSACTION_ROLLED_BACK = new Set(['40P01', '40001']);
/*
 * A prepared statement whose result columns changed under it (a migration run by another instance
 * changed the type of a column it returns, or added one to a table it reads every column of) fails
 * before it runs with "cached plan must not change result type", SQLSTATE 0A000 raised by
 * RevalidateCachedQuery (the routine, unlike the message, does not depend on the server's
 * language). It fails the same way on that connection until the connection is closed.
 */
const Routed = z.object({ code: z.string(), routine: z.string() });

// SQLSTATE 08P01 protocol violation: a message the server refused (a bind of more than 65,535
// parameters), on a connection that stays usable. A fault of ours, not an outage: no retry mends it.
const PROTOCOL_VIOLATION = '08P01';

// SQLSTATE 55P03 lock not available: a lock asked for with lock_timeout, not granted in time.
const LOCK_NOT_AVAILABLE = '55P03';

/** Whether a statement gave up waiting for a lock (lock_timeout): the rebuild's switch tries again. */
export const isLockTimeout = (error: unknown): boolean => Coded.safeParse(error).data?.code === LOCK_NOT_AVAILABLE;

/** Whether a prepared statement failed because a table it reads changed its columns under it. */
export function isStalePreparedStatement(error: unknown): boolean {
  const found = Routed.safeParse(error).data;
  return found?.code === '0A000' && found.routine === 'RevalidateCachedQuery';
}

/**
 * The one place that recognises how pg reports a database the service cannot reach, a statement
 * the statement timeout cancelled, and a transaction rolled back to break a deadlock, and turns
 * them into domain errors; anything else is returned as is.
 * `querySent`: whether the statement may have taken effect (false while acquiring a connection).
 */
export function translateDatabaseError(error: unknown, querySent: boolean): unknown {
  if (error instanceof DatabaseUnavailableError || error instanceof StatementTimeoutError || error instanceof TransactionConflictError || error instanceof DatabaseFullError) return error;
  const code = Coded.safeParse(error).data?.code;
  const message = Messaged.safeParse(error).data?.message ?? '';
  if (code === QUERY_CANCELED) return new StatementTimeoutError({ cause: error });
  if (code === DISK_FULL) return new DatabaseFullError({ cause: error });
  if (code !== undefined && TRANSACTION_ROLLED_BACK.has(code)) return new TransactionConflictError({ cause: error });
  // While a connection is made nothing of the request has been sent: whatever the server answers
  // then, the database is out of this request's reach (and /readyz says so), not a fault of the request's.
  const refused = !querySent && code !== undefined && (CONNECTION_REFUSED.has(code) || /^28[0-9A-Z]{3}$/.test(code));
  const lost =
    refused ||
    (code !== undefined && ((code.startsWith('08') && code !== PROTOCOL_VIOLATION) || CONNECTION_SQLSTATES.has(code) || SOCKET_CODES.has(code))) ||
    LOST_CONNECTION_MESSAGES.some((text) => message.startsWith(text));
  if (!lost) return error;
  const sent = querySent && !NOT_SENT_MESSAGES.some((text) => message.includes(text));
  return new DatabaseUnavailableError(sent, { cause: error }, message.startsWith(POOL_BUSY_MESSAGE));
}
