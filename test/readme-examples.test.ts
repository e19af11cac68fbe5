import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedExampleScenario } from '../db/seed-example-scenario.js';
import { createServiceDatabase, type ServiceDatabase } from './support/service-database.js';
import { killService, launchService, type ServiceProcess } from './support/service-process.js';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const ADMIN_KEY = 'dev-admin-key-change-me';

/** The first `sh` block after a heading of the README. */
function shBlockAfter(heading: string): string {
  const section = readme.indexOf(`\n${heading}\n`);
  const block = /```sh\n([\s\S]*?)\n```/.exec(readme.slice(section));
  if (section < 0 || block?.[1] === undefined) throw new Error(`no sh block after ${heading}`);
  return block[1];
}


const PLACEHOLDERS: readonly (readonly [string, string])[] = [
  ['<the key from the answer>', '$KEY'],
  ['<delivery id>', '$DELIVERY'],
  ['<id>', '$SUBSCRIPTION'],
];

const STATUS_WORDS = ['planned', 'in_progress', 'achieved', 'missed', 'cancelled'];

/** What a command's comments say it answers: an HTTP status, and words its body must hold. */
interface Expected {
  readonly line: number;
  readonly command: string;
  readonly status: number | undefined;
  readonly holds: readonly string[];
}

/**
 * Each command of the script that calls curl, by the line it starts on: the status its comment
 * names (on its last line, else in the comment lines just above it), else any 2xx; and the statuses
 * of a cell (as a JSON member: a bare word is in every matrix's counts) and the JSON members (`"certain":false`) its own comment names (on its last line, or on
 * the next after `→`), which the body must hold.
 */
function expectations(lines: readonly string[], offset: number): Expected[] {
  const found: Expected[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i] ?? '';
    if (first.trimStart().startsWith('#') || !/\bcurl\b/.test(first)) continue;
    // A command goes on while a quote it opened is open.
    let end = i;
    let state = shellLine(first, undefined);
    while (state.open !== undefined && end < lines.length - 1) state = shellLine(lines[++end] ?? '', state.open);
    // What it answers may be said on the comment line after it, after an arrow.
    const after = /^#\s*→(.*)$/.exec((lines[end + 1] ?? '').trim())?.[1] ?? '';
    const comment = `${state.comment} ${after}`;
    let above = '';
    for (let j = i - 1; j >= 0 && (lines[j] ?? '').trimStart().startsWith('#'); j--) above = `${lines[j] ?? ''}\n${above}`;
    const statusIn = (text: string) => /(?:^|[\s(:])([1-5]\d\d)(?=[,:\s]|$)/.exec(text)?.[1];
    const status = statusIn(comment) ?? statusIn(above);
    const holds = [
      ...STATUS_WORDS.filter((word) => new RegExp(`\\b${word}\\b`).test(comment)).map((word) => `"status":"${word}"`),
      ...(comment.match(/"\w+":\w+/g) ?? []),
    ];
    found.push({ line: i + 1 + offset, command: lines.slice(i, end + 1).join('\n'), status: status === undefined ? undefined : Number(status), holds });
    i = end;
  }
  return found;
}

/**
 * One line of shell as bash reads it, for quotes and comments alone: the quote still open at its
 * end (`open`, undefined if none), given the one open at its start, and its comment (`#` after a
 * blank, outside quotes), whose apostrophes are no quotes.
 */
function shellLine(line: string, open: "'" | '"' | undefined): { readonly open: "'" | '"' | undefined; readonly comment: string } {
  let quote = open;
  for (let k = 0; k < line.length; k++) {
    const c = line[k];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') k++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (k === 0 || /\s/.test(line[k - 1] ?? ''))) return { open: undefined, comment: line.slice(k + 1).trim() };
  }
  return { open: quote, comment: '' };
}

let database: ServiceDatabase | undefined;
let service: ServiceProcess | undefined;

beforeAll(async () => {
  database = await createServiceDatabase();
  // As the README's webhook example says to start it, so that its subscription to 127.0.0.1 is taken.
  service = await launchService({ ...database.env, ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_ALLOWED_CIDRS: '127.0.0.1/32' });
  await seedExampleScenario(service.url, ADMIN_KEY);
}, 120_000);

afterAll(async () => {
  await killService(service);
  await database?.remove();
});

describe("README's examples", () => {
  it('answer on the seeded example as their comments say: "Try it", then "An analyst\'s questions", each curl with the status its comment names (else a 2xx) and the statuses and members it names', async () => {
    const tryIt = shBlockAfter('## Try it');
    const questions = shBlockAfter("## An analyst's questions, answered");
    expect(tryIt).toContain('API=http://127.0.0.1:3000\n');
    let script = `${tryIt}\n${questions}`.replace('API=http://127.0.0.1:3000\n', `API=${service?.url ?? ''}\n`);
    for (const [placeholder, variable] of PLACEHOLDERS) {
      expect(script).toContain(placeholder);
      script = script.replaceAll(placeholder, variable);
    }
    const expected = expectations(script.split('\n'), 1);
    expect(expected.length).toBeGreaterThan(30);

    const calls = await mkdtemp(join(tmpdir(), 'ml-readme-'));
    try {
      // Sourced on the script's first line, so that the README's lines follow from its second.
      const curlFunction = fileURLToPath(new URL('support/readme-curl.sh', import.meta.url));
      const run = promisify(execFile);
      await run('bash', ['-c', 'command -v curl']).catch(() => {
        throw new Error('the README\'s examples need curl on the PATH (.ci/run installs it)');
      });
      const { stderr } = await run('bash', ['-c', `source '${curlFunction}'\n${script}`], { env: { ...process.env, CALLS: calls }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
      // A command of the examples that failed (a grep, a cut, bash itself) says so here.
      expect(stderr).toBe('');
      const log = (await readFile(join(calls, 'log'), 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.split('\t'));
      const answers = await Promise.all(log.map(async ([line, code, file]) => ({ line: Number(line), status: Number(code), body: await readFile(file ?? '', 'utf8') })));

      const wrong = expected.flatMap((e): { command: string; expected: number | string; holds: readonly string[]; status: number | string; body: string }[] => {
        const mine = answers.filter((a) => a.line === e.line);
        if (mine.length === 0) return [{ command: e.command, expected: e.status ?? '2xx', holds: e.holds, status: 'not run', body: '' }];
        return mine
          .filter((a) => (e.status === undefined ? a.status < 200 || a.status > 299 : a.status !== e.status) || e.holds.some((word) => !a.body.includes(word)))
          .map((a) => ({ command: e.command, expected: e.status ?? '2xx', holds: e.holds, status: a.status, body: a.body.slice(0, 600) }));
      });
      expect(wrong).toEqual([]);
      // And no curl ran that the expectations missed.
      expect(answers.filter((a) => !expected.some((e) => e.line === a.line))).toEqual([]);
    } finally {
      await rm(calls, { recursive: true, force: true });
    }
  }, 180_000);
});
