import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES } from '../src/config.js';
import { PROBLEM_TYPES } from '../src/http/problem.js';
import { call } from './support/http.js';
import { useTestApp } from './support/test-app.js';

const t = useTestApp();
const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('lists every configuration variable the service reads', () => {
    const missing = ENVIRONMENT_VARIABLES.filter((name) => !readme.includes(`| \`${name}\` |`));

    expect(ENVIRONMENT_VARIABLES.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('lists every problem type the API answers with', () => {
    const missing = Object.keys(PROBLEM_TYPES).filter((slug) => !readme.includes(`\`/problems/${slug}\``));

    expect(missing).toEqual([]);
  });

  it('holds each of its sections once', () => {
    // A paste over the wrong span once left a second copy of five sections (f0f39dd; removed in 70640b8).
    const headings = [...readme.matchAll(/^#{2,4} .+$/gm)].map((m) => m[0]);
    const repeated = headings.filter((heading, index) => headings.indexOf(heading) !== index);

    expect(headings.length).toBeGreaterThan(10);
    expect(repeated).toEqual([]);
  });

  it('lists every series of its own that /metrics exposes', async () => {
    const exposition = String((await call(t.app, 'GET', '/metrics')).body);
    const names = [...exposition.matchAll(/^# TYPE (ml_\w+) /gm)].map((m) => m[1] ?? '');
    const missing = names.filter((name) => !readme.includes(`\`${name}`));

    expect(names.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });
});
