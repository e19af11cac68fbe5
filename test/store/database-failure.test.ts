import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, StatementTimeoutError } from '../../src/domain/errors.js';
import { translateDatabaseError } from '../../src/store/database-failure.js';

const pgError = (code: string, message = 'from the server') => Object.assign(new Error(message), { code });

describe('translateDatabaseError', () => {
  it.each([
    ['57P01 (pg_terminate_backend)', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P02 (crash shutdown)', pgError('57P02')],
    ['57P03 (cannot connect now)', pgError('57P03')],
    ['class 08 (connection failure)', pgError('08006')],
    ['ECONNRESET', pgError('ECONNRESET', 'read ECONNRESET')],
    ['a lost socket', new Error('Connection terminated unexpectedly')],
  ])('turns %s during a statement into DatabaseUnavailableError, the statement possibly sent', (_name, error) => {
    const translated = translateDatabaseError(error, true);

    expect(translated).toBeInstanceOf(DatabaseUnavailableError);
    expect(translated).toMatchObject({ querySent: true, cause: error });
  });

  it.each([
    ['ECONNREFUSED while connecting', pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), false],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect'), false],
    ['a connection timeout', new Error('Connection terminated due to connection timeout'), false],
    ['a client already broken', new Error('Client has encountered a connection error and is not queryable'), true],
    ['55000 while connecting (ALLOW_CONNECTIONS false)', pgError('55000', 'database "x" is not currently accepting connections'), false],
    ['53300 while connecting', pgError('53300', 'sorry, too many clients already'), false],
    ['3D000 while connecting', pgError('3D000', 'database "x" does not exist'), false],
    ['28P01 while connecting', pgError('28P01', 'password authentication failed for user "x"'), false],
  ])('turns %s into DatabaseUnavailableError with nothing sent', (_name, error, querySent) => {
    expect(translateDatabaseError(error, querySent)).toMatchObject({ code: 'database_unavailable', querySent: false });
  });

  it('turns 57014 (statement timeout) into StatementTimeoutError', () => {
    expect(translateDatabaseError(pgError('57014', 'canceling statement due to statement timeout'), true)).toBeInstanceOf(StatementTimeoutError);
  });

  it('passes any other error through unchanged, a protocol violation (08P01, a message the server refused) included: no retry mends it', () => {
    const duplicate = pgError('23505', 'duplicate key');
    const refusedMessage = pgError('08P01', 'bind message has 4464 parameter formats but 0 parameters');

    expect(translateDatabaseError(refusedMessage, true)).toBe(refusedMessage);
    const ours = pgError('MLVER', 'version conflict');

    expect(translateDatabaseError(duplicate, true)).toBe(duplicate);
    // The codes a refused connection has mean something else from a statement: a fault to look into.
    const prerequisite = pgError('55000', 'cannot refresh materialized view concurrently');
    expect(translateDatabaseError(prerequisite, true)).toBe(prerequisite);
    expect(translateDatabaseError(ours, true)).toBe(ours);
    expect(translateDatabaseError('not an error', true)).toBe('not an error');
  });
});
