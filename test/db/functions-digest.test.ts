import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { functionFiles, functionStatements, functionsDigest } from '../../db/functions.js';
import { cellRoles } from '../../src/domain/status-rules.js';
import { CELL_EVIDENCE_LIMIT } from '../../src/store/cell-evidence-limit.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(REPO, 'node_modules', '.bin', 'tsc');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');

/** A module that prints the digest of the functions module at `path`. */
const printDigest = (path: string) => `import(${JSON.stringify(path)}).then(async (m) => console.log(await m.functionsDigest()))`;

describe("the functions' digest", () => {
  it('is taken from every statement that writes the functions and rules: each function file, the catalogue\'s roles with their values, the evidence limit (review: a capture that saw nothing would have made every release look the same)', async () => {
    const statements = await functionStatements();
    const texts = statements.map((q) => q.sql);

    for (const file of await functionFiles()) expect(texts, file.name).toContain(file.text);
    expect(statements.some((q) => q.sql.includes('insert into event_type_rule') && q.parameters.includes(JSON.stringify(cellRoles())))).toBe(true);
    expect(texts.some((text) => text.includes('function cell_evidence_limit()') && text.includes(`select ${CELL_EVIDENCE_LIMIT}`))).toBe(true);
  });

  it('is the same from the sources under tsx (npm run migrate, npm run dev) as from the compiled build (npm start), so that neither rewrites the functions the other applied (probe of upgrades: each rewrote them all, under the projection lock)', async () => {
    const build = await mkdtemp(join(tmpdir(), 'ml-digest-build-'));
    try {
      // Compiled as `npm run build` compiles, into a folder of its own, with the files it copies beside.
      await run(TSC, ['-p', join(REPO, 'tsconfig.build.json'), '--outDir', build, '--tsBuildInfoFile', join(build, '.tsbuildinfo')], { cwd: REPO });
      await cp(join(REPO, 'db', 'functions'), join(build, 'db', 'functions'), { recursive: true });
      await writeFile(join(build, 'package.json'), JSON.stringify({ type: 'module' }));
      await symlink(join(REPO, 'node_modules'), join(build, 'node_modules'));

      const compiled = (await run(process.execPath, ['-e', printDigest(join(build, 'db', 'functions.js'))])).stdout.trim();
      const sources = (await run(TSX, ['-e', printDigest(join(REPO, 'db', 'functions.ts'))], { cwd: REPO })).stdout.trim();

      expect(compiled).toMatch(/^[0-9a-f]{64}$/);
      expect(sources).toBe(compiled);
      // And as the tests compute it.
      expect(await functionsDigest()).toBe(compiled);
    } finally {
      await rm(build, { recursive: true, force: true });
    }
  }, 120_000);
});
