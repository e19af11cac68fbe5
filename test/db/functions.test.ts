import { describe, expect, it } from 'vitest';
import { functionFiles } from '../../db/functions.js';
import { APPEND_ERROR_CODES, appendErrorCodesIn } from '../../src/store/append-error-codes.js';

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
});
