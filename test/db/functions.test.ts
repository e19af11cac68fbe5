import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { applyFunctions, functionFiles } from '../../db/functions.js';
import { APPEND_ERROR_CODES, appendErrorCodesIn } from '../../src/store/append-error-codes.js';
import { openTestDatabase } from '../support/test-database.js';

describe('db/functions', () => {
  it('raises exactly the ML error codes the store translates', async () => {
    const raised = new Set((await functionFiles()).flatMap((file) => appendErrorCodesIn(file.text)));

    expect([...raised].sort()).toEqual(Object.values(APPEND_ERROR_CODES).sort());
  });

  it('holds one function a file, named after it', async () => {
    for (const file of await functionFiles()) {
      const created = [...file.text.matchAll(/create or replace function (\w+)\(/g)].map((m) => m[1]);
      expect(created, file.name).toEqual([file.name.replace(/\.sql$/, '')]);
    }
  });

  it('refuses to apply them while a PL/pgSQL function of the schema plans with sequential scans', async () => {
    const database = await openTestDatabase({ poolSize: 2 });
    try {
      await applyFunctions(database.db);
      await sql`create function scans_freely() returns bigint language plpgsql as $$ begin return (select count(*) from event); end $$`.execute(database.db);
      await expect(applyFunctions(database.db)).rejects.toThrow('these functions plan without enable_seqscan=off: scans_freely');
      await sql`alter function scans_freely() set enable_seqscan = off`.execute(database.db);
      await applyFunctions(database.db);
    } finally {
      await database.close();
    }
  });
});
