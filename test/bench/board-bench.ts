/*
 * `npm run bench:board`: what a cell of thousands of evidence entries costs the status board's page,
 * in a real browser (Debian's chromium, as the board's tests drive it).
 *
 * On a database of its own it records one program-scope cell of BOARD_BENCH_ENTRIES seminars (each
 * with a source), opens the board (signed in with the admin key), asks for "Show all" and then, BOARD_BENCH_ROUNDS
 * times, records one more seminar while the reader looks at an entry deep in the list, and waits for
 * the live change to bring the list up to date. For each it reports the page's longest task (a
 * PerformanceObserver of long tasks: over 50 ms, the page answers nothing), and, for the live
 * changes, how far the entry the reader looked at moved on the screen. The same rounds run twice in
 * one run, on two pages: the board as served, and a baseline, the same board with every entry of a
 * long list laid out and painted (`content-visibility: visible`): what the layout costs.
 */
import { chromium, type Page } from 'playwright-core';
import { databaseUrl, runAdmin } from '../support/postgres-admin.js';
import { killService, launchService } from '../support/service-process.js';

const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ENTRIES = Number(process.env.BOARD_BENCH_ENTRIES ?? 6000);
const ROUNDS = Number(process.env.BOARD_BENCH_ROUNDS ?? 6);
const DATABASE = `board_bench_${process.pid}`;
const KEY = 'board-bench-admin-key';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const BASELINE_STYLE = '.evidence-list.long > li { content-visibility: visible !important; }';
if (!Number.isInteger(ENTRIES) || ENTRIES < 21) throw new Error('BOARD_BENCH_ENTRIES must be an integer above 20');
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('BOARD_BENCH_ROUNDS must be a positive integer');

const log = (line: string) => process.stderr.write(`[board ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

interface Round {
  readonly longestMs: number;
  readonly movedPx: number;
}

interface Side {
  readonly showAllLongestMs: number;
  readonly rounds: readonly Round[];
}

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST /v1/events answered ${response.status}: ${await response.text()}`);
}

async function load(url: string): Promise<void> {
  await post(url, {
    events: [
      { type: 'program.registered', occurredAt: '2025-01', data: { programId: 'bench', name: 'Bench' } },
      { type: 'milestone.planned', occurredAt: '2025-01', data: { programId: 'bench', milestone: 'outreach', title: 'Outreach', scope: 'program' } },
    ],
  });
  for (let start = 0; start < ENTRIES; start += 1000) {
    const events = Array.from({ length: Math.min(1000, ENTRIES - start) }, (_, i) => {
      const n = start + i;
      const day = new Date(Date.UTC(2025, 1, 1) + (n % 300) * 86_400_000).toISOString().slice(0, 10);
      return { type: 'seminar.held', occurredAt: day, data: { programId: 'bench', milestone: 'outreach', title: `Seminar ${n}` }, sources: [{ url: `https://news.example/${n}`, publisher: 'News' }] };
    });
    await post(url, { events });
  }
}

/** Collects the page's long tasks (in the page: this project's TypeScript has no DOM types). */
const OBSERVE_LONG_TASKS = `window.benchLongTasks = [];
  new PerformanceObserver((list) => { for (const entry of list.getEntries()) window.benchLongTasks.push(entry.duration); }).observe({ type: 'longtask', buffered: true });`;

/** The longest task since the last call, in ms (0 if none over 50 ms). */
const longestTask = async (page: Page): Promise<number> =>
  Number(await page.evaluate('(() => { const tasks = window.benchLongTasks; window.benchLongTasks = []; return Math.max(0, ...tasks); })()'));

/** Resolves once the page's expression is true. */
const until = (page: Page, expression: string, timeout = 60_000) => page.waitForFunction(expression, undefined, { timeout });

async function measure(url: string, baseline: boolean, firstRound: number): Promise<Side> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    // Without the page's CSP, which refuses the baseline's style and the waits' expressions, on both sides alike.
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 }, bypassCSP: true })).newPage();
    await page.addInitScript({ content: OBSERVE_LONG_TASKS });
    await page.goto(`${url}/?program=bench`);
    if (baseline) await page.addStyleTag({ content: BASELINE_STYLE });
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await until(page, `document.querySelector('#live-state')?.textContent === 'Live updates: on'`);
    await page.locator('#matrix button.cell').first().click();
    await page.locator('.show-all-evidence').waitFor();
    await longestTask(page);
    const entries = page.locator('#evidence .evidence-list > li');
    const listed = Math.min(ENTRIES, 5000);
    await page.locator('.show-all-evidence').click();
    await until(page, `document.querySelectorAll('#evidence .evidence-list > li').length === ${listed}`, 120_000);
    await page.waitForTimeout(1000);
    const showAllLongestMs = await longestTask(page);
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const deep = entries.nth(Math.floor(listed / 2) + r * 10);
      await deep.scrollIntoViewIfNeeded();
      await page.waitForTimeout(500);
      const id = await deep.getAttribute('data-event');
      const looked = page.locator(`#evidence li[data-event="${id ?? ''}"]`);
      const before = (await looked.boundingBox())?.y ?? NaN;
      await longestTask(page);
      const title = `Live ${firstRound + r}`;
      await post(url, { type: 'seminar.held', occurredAt: new Date(Date.UTC(2026, 0, 1) + (firstRound + r) * 86_400_000).toISOString().slice(0, 10), data: { programId: 'bench', milestone: 'outreach', title } });
      await until(page, `document.querySelector('#evidence .evidence-list > li .evidence-title')?.textContent === ${JSON.stringify(title)}`);
      await page.waitForTimeout(1000);
      rounds.push({ longestMs: await longestTask(page), movedPx: Math.abs(((await looked.boundingBox())?.y ?? NaN) - before) });
      // The next change comes after the 5 s a whole list waits between its reads.
      await page.waitForTimeout(5000);
    }
    return { showAllLongestMs, rounds };
  } finally {
    await browser.close();
  }
}

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? NaN;

await runAdmin(SERVER, `create database ${DATABASE}`);
const service = await launchService({ DATABASE_URL: databaseUrl(SERVER, DATABASE), ADMIN_API_KEY: KEY, RATE_LIMIT_PER_MINUTE: '1000000' });
try {
  log(`recording ${ENTRIES} seminars of one cell`);
  await load(service.url);
  log('the board as served');
  const served = await measure(service.url, false, 0);
  log('the baseline: every entry laid out');
  const baseline = await measure(service.url, true, ROUNDS);
  const row = (name: string, side: Side) =>
    `| ${name} | ${side.showAllLongestMs.toFixed(0)} | ${median(side.rounds.map((r) => r.longestMs)).toFixed(0)} | ${Math.max(...side.rounds.map((r) => r.longestMs)).toFixed(0)} | ${Math.max(...side.rounds.map((r) => r.movedPx)).toFixed(1)} |`;
  process.stdout.write(
    [
      `${ENTRIES} entries in one cell, ${Math.min(ENTRIES, 5000)} listed; ${ROUNDS} live changes each side`,
      '| page | "Show all": longest task ms | live change: longest task ms, median | most | entry looked at moved px, most |',
      '| --- | ---: | ---: | ---: | ---: |',
      row('as served', served),
      row('baseline (every entry laid out)', baseline),
      `live change, longest task, median: served ÷ baseline ${(median(served.rounds.map((r) => r.longestMs)) / Math.max(1, median(baseline.rounds.map((r) => r.longestMs)))).toFixed(2)}`,
      '',
    ].join('\n'),
  );
} finally {
  await killService(service);
  await runAdmin(SERVER, `drop database if exists ${DATABASE} with (force)`);
}
