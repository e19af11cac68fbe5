import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OPENAPI_PATH } from '../../src/http/render-openapi.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDOCLY = join(ROOT, 'node_modules/.bin/redocly');

const LintReport = z.object({
  totals: z.object({ errors: z.int(), warnings: z.int() }),
  problems: z.array(z.object({ ruleId: z.string(), message: z.string() })),
});

/** `redocly lint` with redocly.yaml (the recommended rules, two off and three example checks on, with reasons); it exits 1 on an error. */
async function lint(file: string) {
  const run = promisify(execFile)(REDOCLY, ['lint', file, '--format=json'], {
    cwd: ROOT,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  const stdout = await run.then(
    (result) => result.stdout,
    (error: unknown) => z.object({ stdout: z.string() }).parse(error).stdout,
  );
  return LintReport.parse(JSON.parse(stdout));
}

describe('OpenAPI lint (redocly, recommended rules)', () => {
  it('finds neither error nor warning in the committed document', async () => {
    const report = await lint(OPENAPI_PATH.pathname);

    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toEqual({ errors: 0, warnings: 0 });
  }, 60_000);

  it('would fail a document without servers, with an open operation that declares no security, or with an example its schema refuses', async () => {
    const document = z
      .looseObject({
        paths: z.record(z.string(), z.record(z.string(), z.looseObject({}))),
        components: z.looseObject({ schemas: z.looseObject({ Event: z.looseObject({ examples: z.array(z.looseObject({})) }) }) }),
      })
      .parse(JSON.parse(await readFile(OPENAPI_PATH, 'utf8')));
    const health = document.paths['/healthz']?.get;
    if (health !== undefined) delete health.security;
    const [event] = document.components.schemas.Event.examples;
    if (event !== undefined) event.position = -1;
    const dir = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
    try {
      const broken = join(dir, 'openapi.json');
      await writeFile(broken, JSON.stringify({ ...document, servers: undefined }));
      const report = await lint(broken);

      expect(report.problems.map((p) => p.ruleId).sort()).toEqual(['no-empty-servers', 'no-invalid-schema-examples', 'security-defined']);
    } finally {
      await rm(dir, { recursive: true });
    }
  }, 60_000);
});
