import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parse } from 'csv-parse/sync';
import { seedExampleScenario } from '../../db/seed-example-scenario.js';
import { launchBrowser, openBoardPage, signIn, type BoardPage } from '../support/board-browser.js';
import { createServiceDatabase, type ServiceDatabase } from '../support/service-database.js';
import { killService, launchService, type ServiceProcess } from '../support/service-process.js';

/*
 * The status board (issue 12) in a real headless browser, against the real service on the seeded
 * example of SPEC §1, signed in with a reader key through the page's form.
 */

const ADMIN_API_KEY = 'status-board-admin-key';
const SCREENSHOT = fileURLToPath(new URL('../screenshots/status-board.png', import.meta.url));
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const HOSTILE_TITLE = '<img src=x onerror=alert(1)>';
const AxeViolations = z.array(z.object({ id: z.string(), impact: z.string().nullable(), targets: z.array(z.string()) }));

let database: ServiceDatabase | undefined;
let service: ServiceProcess | undefined;
let browser: Browser | undefined;
let readerKey: string;
let opened: BoardPage[] = [];

async function api(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
  if (service === undefined) throw new Error('no service');
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** A reader key of its own, for a test that revokes it. */
const newReaderKey = async (name: string) => z.object({ id: z.string(), key: z.string() }).parse(await api('POST', '/v1/api-keys', { name, role: 'reader' }));

const signedOutAsRevoked = async (board: BoardPage, timeout?: number) => {
  await expect.poll(() => board.page.getByLabel('API key').isVisible(), { timeout }).toBe(true);
  expect(await board.page.locator('#sign-in-error').textContent()).toBe('Your API key is no longer accepted: sign in again.');
  expect(await board.page.evaluate('sessionStorage.length')).toBe(0);
  expect(await board.page.locator('#board').isHidden()).toBe(true);
  // The browser logs each refused request (a 401) as a console error; nothing else may fail.
  expect(board.problems.errors.filter((error) => !error.includes('status of 401'))).toEqual([]);
  expect(board.problems.cspViolations).toEqual([]);
};

beforeAll(async () => {
  database = await createServiceDatabase();
  service = await launchService({ ...database.env, ADMIN_API_KEY });
  await seedExampleScenario(service.url, ADMIN_API_KEY);
  readerKey = z.object({ key: z.string() }).parse(await api('POST', '/v1/api-keys', { name: 'board analyst', role: 'reader' })).key;
  browser = await launchBrowser();
});

afterEach(async () => {
  for (const { context } of opened) await context.close();
  opened = [];
});

afterAll(async () => {
  await browser?.close();
  await killService(service);
  await database?.remove();
});

/** A board page opened on nothing yet, for a test that routes its requests first. */
async function blankBoard(options?: Parameters<typeof openBoardPage>[1]): Promise<BoardPage> {
  if (browser === undefined) throw new Error('no browser');
  const board = await openBoardPage(browser, options);
  opened.push(board);
  return board;
}

async function open(path: string, options?: Parameters<typeof openBoardPage>[1]): Promise<BoardPage> {
  if (service === undefined) throw new Error('no service');
  const board = await blankBoard(options);
  await board.page.goto(`${service.url}${path}`);
  return board;
}

const cell = (board: BoardPage, milestone: string, consortium: string) =>
  board.page.locator(`#matrix button.cell[data-milestone="${milestone}"][data-consortium="${consortium}"]`);

const noProblems = (board: BoardPage) => expect(board.problems).toEqual({ errors: [], cspViolations: [], dialogs: [] });

/** A program of this test's own with one program-scope milestone, and `seminars` seminars held for it in February 2026. */
const programWithMilestone = (programId: string, milestone: string, seminars = 0) =>
  api('POST', '/v1/events', {
    events: [
      { type: 'program.registered', occurredAt: '2026-01', data: { programId, name: programId } },
      { type: 'milestone.planned', occurredAt: '2026-01', data: { programId, milestone, title: milestone, scope: 'program' } },
      ...Array.from({ length: seminars }, (_, n) => ({
        type: 'seminar.held',
        occurredAt: `2026-02-${String(n + 1).padStart(2, '0')}`,
        data: { programId, milestone, title: `Seminar ${n + 1}` },
      })),
    ],
  });

/** A board on `programId`, following live changes, its 'outreach' cell open. */
async function outreachOpenLive(programId: string): Promise<BoardPage> {
  const board = await open(`/?program=${programId}`);
  await signIn(board.page, readerKey);
  await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
  await cell(board, 'outreach', '').click();
  return board;
}

/** A board on `programId`, following live changes, its 'outreach' cell open with all `count` of its entries shown. */
async function wholeEvidenceLive(programId: string, count = 25): Promise<BoardPage> {
  const board = await outreachOpenLive(programId);
  await board.page.getByRole('button', { name: `Show all ${count}` }).click();
  await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(count);
  return board;
}

/** A program of its own with `count` seminars of seminarsFrom2025, on a board following it, its outreach cell's whole list shown. */
async function wholeEvidenceFrom2025(programId: string, count: number, options: { withSources?: boolean } = {}): Promise<BoardPage> {
  await programWithMilestone(programId, 'outreach');
  await api('POST', '/v1/events', { events: seminarsFrom2025(programId, count, options) });
  return wholeEvidenceLive(programId, count);
}

/**
 * Holds each read of a cell's whole evidence (its /evidence pages): asked of the service at once,
 * answered to the page only when the test releases it, oldest first, so that a test sets which
 * read lands when. Once `stop` is called, reads are answered as they come.
 */
async function holdWholeReads(board: BoardPage) {
  const held: { answer: () => Promise<void>; fail: () => Promise<void> }[] = [];
  let holding = true;
  await board.page.route(/\/evidence\?/, async (route) => {
    const response = await route.fetch();
    if (holding) held.push({ answer: () => route.fulfill({ response }), fail: () => route.fulfill(UNAVAILABLE) });
    else await route.fulfill({ response });
  });
  const oldest = () => held.shift() ?? { answer: noneHeld, fail: noneHeld };
  return {
    held: () => held.length,
    release: () => oldest().answer(),
    /** Answers the oldest read held 503, as a database out of reach would. */
    fail: () => oldest().fail(),
    stop: () => {
      holding = false;
    },
  };
}

const noneHeld = () => Promise.reject(new Error('no read of the evidence is held'));

/** A 503 problem, as the service answers when the database cannot be reached. */
const UNAVAILABLE = {
  status: 503,
  contentType: 'application/problem+json',
  body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the database cannot be reached now' }),
};

/** The titles of the evidence entries listed, top to bottom. */
const evidenceTitles = (board: BoardPage) => board.page.locator('#evidence .evidence-list > li .evidence-title').allTextContents();

/**
 * A board on a program of its own whose 'outreach' cell holds 25 seminars, following live changes,
 * the cell open and "Show all 25" asked, its read held (holdWholeReads).
 */
async function wholeReadHeld(programId: string) {
  await programWithMilestone(programId, 'outreach', 25);
  const board = await outreachOpenLive(programId);
  const reads = await holdWholeReads(board);
  await board.page.getByRole('button', { name: 'Show all 25' }).click();
  await expect.poll(reads.held).toBe(1);
  return { board, reads };
}

/** Retracts the five latest seminars of a wholeReadHeld program, and waits for the board to show the 20 left. */
async function retractFiveLatest(board: BoardPage, programId: string): Promise<void> {
  const latest = z
    .object({ evidence: z.array(z.object({ id: z.string() })) })
    .parse(await api('GET', `/v1/programs/${programId}/milestones/outreach/evidence?limit=5`)).evidence;
  await api('POST', '/v1/events', { events: latest.map((e) => ({ type: 'event.retracted', data: { eventId: e.id, reason: 'misreported' } })) });
  await expect.poll(async () => (await evidenceTitles(board))[0], { timeout: 15_000 }).toBe('Seminar 20');
}

/** Selects the text of the title of the entry 'Seminar 10', as a reader would with the mouse. */
const SELECT_SEMINAR_10 = `(() => {
  const title = [...document.querySelectorAll('#evidence .evidence-title')].find((p) => p.textContent === 'Seminar 10');
  const range = document.createRange();
  range.selectNodeContents(title);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
})()`;

/** The titles a wholeReadHeld cell shows once its five latest are retracted, newest first. */
const TWENTY_LEFT = Array.from({ length: 20 }, (_, n) => `Seminar ${20 - n}`);

/** Resolves once the next read of a cell's evidence pages has come back to the page. */
const evidenceLanded = (board: BoardPage) => board.page.waitForEvent('requestfinished', (request) => request.url().includes('/evidence?'));

/** Counts the reads of a cell's evidence pages asked for from now on. */
function evidenceReadsFromNow(board: BoardPage): () => number {
  let reads = 0;
  board.page.on('request', (request) => {
    if (request.url().includes('/evidence?')) reads += 1;
  });
  return () => reads;
}

/** `count` seminars held for a program-scope milestone in February 2026, each with a source link. */
const seminarsWithSources = (programId: string, milestone: string, count: number) =>
  api('POST', '/v1/events', {
    events: Array.from({ length: count }, (_, n) => ({
      type: 'seminar.held',
      occurredAt: `2026-02-${String(n + 1).padStart(2, '0')}`,
      data: { programId, milestone, title: `Seminar ${n + 1}` },
      sources: [{ url: `https://news.example/seminar-${n + 1}`, publisher: 'News' }],
    })),
  });

/** `count` seminars for the outreach milestone of `programId`, one a day from 1 January 2025: 'Seminar 1' to 'Seminar <count>'. */
const seminarsFrom2025 = (programId: string, count: number, { withSources = false } = {}) =>
  Array.from({ length: count }, (_, n) => ({
    type: 'seminar.held',
    occurredAt: new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString().slice(0, 10),
    data: { programId, milestone: 'outreach', title: `Seminar ${n + 1}` },
    ...(withSources && { sources: [{ url: `https://news.example/seminar-${n + 1}`, publisher: 'News' }] }),
  }));

/** `count` seminars later in world time than any of seminarsFrom2025's (2026), which a list puts above them. */
const seminarsFrom2026 = (programId: string, count: number) =>
  Array.from({ length: count }, (_, n) => ({
    type: 'seminar.held',
    occurredAt: new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10),
    data: { programId, milestone: 'outreach', title: `Later ${n + 1}` },
  }));

/** Starts the milestone of a program of programWithMilestone. */
const startMilestone = (programId: string, milestone: string) =>
  api('POST', '/v1/events', { type: 'milestone.started', occurredAt: '2026-03', data: { programId, milestone } });

/** A board page whose served HTML tells it `content` in its meta element `name` (ml-page-size, ml-answer-within-ms). */
async function pageTold(board: BoardPage, page: RegExp, name: string, content: string): Promise<void> {
  await board.page.route(page, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace(new RegExp(`<meta name="${name}" content="\\d+">`), `<meta name="${name}" content="${content}">`);
    await route.fulfill({ response, body });
  });
}

/**
 * Holds the board's first read of the program's matrix while `meanwhile` runs, then answers it
 * with what it found (or never, if `meanwhile` never ends); later reads pass. Returns whether it held one.
 */
async function holdFirstMatrixRead(board: BoardPage, programId: string, meanwhile: () => Promise<unknown>): Promise<() => boolean> {
  let held = false;
  await board.page.route(new RegExp(`/v1/programs/${programId}/milestones\\?.*expand=evidence`), async (route) => {
    if (held) return route.continue();
    held = true;
    const response = await route.fetch();
    await meanwhile();
    await route.fulfill({ response });
  });
  return () => held;
}

/**
 * The kr-sovereign-ai card of a board signed in, once a view's read of its milestones has been answered
 * 503 (the view moved to asOf 2026-07-01); its reads pass after that.
 */
async function cardFailedOnce(board: BoardPage) {
  const card = board.page.locator('#program-list li[data-program="kr-sovereign-ai"]');
  await card.waitFor();
  let failing = true;
  await board.page.route(/\/v1\/programs\/kr-sovereign-ai\/milestones\?/, (route) =>
    failing ? route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: '/problems/x', title: 'x', status: 503, detail: 'overloaded' }) }) : route.continue(),
  );
  await board.page.getByLabel('As of (world time)').fill('2026-07-01');
  await expect.poll(() => card.innerText()).toContain('Could not load its milestones: overloaded');
  failing = false;
  return card;
}

/**
 * Where the text `before` and the text `after` that follows it are drawn, in the first element
 * matching `selector` whose text holds the two together: [the right edge of before, the left edge of
 * after]. Read as a reader reads: a bidi control in `before` that ran on would draw `after` reversed,
 * left of it.
 */
async function drawnEdges(board: BoardPage, selector: string, before: string, after: string): Promise<[number, number]> {
  const edges = await board.page.evaluate(`(() => {
    const before = ${JSON.stringify(before)}, after = ${JSON.stringify(after)};
    for (const element of document.querySelectorAll(${JSON.stringify(selector)})) {
      const at = element.textContent.indexOf(before + after);
      if (at < 0) continue;
      const nodes = [];
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) nodes.push(walker.currentNode);
      // The text node and offset of a character of the element's text (for an end, the place just after it).
      const place = (offset, end) => {
        for (const node of nodes) {
          if (end ? offset <= node.length : offset < node.length) return [node, offset];
          offset -= node.length;
        }
      };
      const rect = (from, to) => {
        const range = document.createRange();
        range.setStart(...place(from, false));
        range.setEnd(...place(to, true));
        return range.getBoundingClientRect();
      };
      return [rect(at, at + before.length).right, rect(at + before.length, at + before.length + after.length).left];
    }
  })()`);
  return z.tuple([z.number(), z.number()]).parse(edges);
}

/** A program of its own whose name, milestone (its id and title), consortium and sources are as long and unbroken as the API lets them be. */
const LONG_MILESTONE = `m${'x'.repeat(62)}`;
const LONG_NAME = 'N'.repeat(200);
const LONG_TITLE = 'T'.repeat(300);
async function programOfLongText(programId: string, consortiumId: string): Promise<void> {
  await api('POST', '/v1/events', {
    events: [
      { type: 'program.registered', occurredAt: '2026-01', data: { programId, name: LONG_NAME, sponsor: 'S'.repeat(200) } },
      { type: 'milestone.planned', occurredAt: '2026-01', data: { programId, milestone: LONG_MILESTONE, title: LONG_TITLE, scope: 'program' } },
      { type: 'consortium.registered', occurredAt: '2026-01', data: { consortiumId, name: 'C'.repeat(200), lead: 'L'.repeat(200), models: ['M'.repeat(200)] } },
      { type: 'consortium.enrolled', occurredAt: '2026-01', data: { consortiumId, programId } },
      {
        type: 'seminar.held',
        occurredAt: '2026-02-01',
        data: { programId, milestone: LONG_MILESTONE, title: 'E'.repeat(300) },
        sources: [
          { url: `https://news.example/${'u'.repeat(1979)}` },
          { url: 'https://news.example/titled', publisher: 'P'.repeat(200), title: 'W'.repeat(500) },
        ],
      },
    ],
  });
}

/** Whether the point at the centre of `selector`, scrolled into view, is inside it: what a click there would reach. */
const reachable = async (board: BoardPage, selector: string) =>
  board.page.evaluate(`(() => {
    const target = document.querySelector(${JSON.stringify(selector)});
    target.scrollIntoView({ block: 'center', inline: 'center' });
    const box = target.getBoundingClientRect();
    return target.contains(document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2));
  })()`);

describe('the status board, in a real browser on the seeded example', () => {
  it('signs in through the "API key" field and shows both programs; the key is in no URL and no cookie', async () => {
    const board = await open('/');

    await signIn(board.page, readerKey);

    const programs = board.page.locator('#program-list > li');
    await expect.poll(async () => (await programs.locator('h3').allTextContents()).sort()).toEqual(['Defense AX', 'National AI foundation model project']);
    await expect.poll(() => programs.filter({ hasText: 'Ministry of National Defense' }).count()).toBe(1);
    expect(board.page.url()).not.toContain(readerKey);
    expect(await board.page.evaluate('document.cookie')).toBe('');
    expect(await board.page.evaluate('sessionStorage.length')).toBe(1);
    // The sign-in form, which held focus, is hidden: focus is on the board, not lost to the body.
    expect(await board.page.evaluate('document.activeElement?.id')).toBe('main');
    noProblems(board);
  });

  it('says so when the key is wrong, and signs out', async () => {
    const board = await open('/');

    await board.page.getByLabel('API key').fill('not-a-key');
    await board.page.getByRole('button', { name: 'Sign in' }).click();

    await expect.poll(() => board.page.locator('#sign-in-error').textContent()).toContain('not accepted');
    await signIn(board.page, readerKey);
    await board.page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => board.page.getByLabel('API key').isVisible()).toBe(true);
    expect(await board.page.evaluate('sessionStorage.length')).toBe(0);
  });

  it("shows SK Telecom's lightweight pilot in progress since 2026-Q2 in the defense program's matrix", async () => {
    const board = await open('/?program=defense-ax');

    await signIn(board.page, readerKey);

    const pilot = cell(board, 'lightweight-pilot', 'skt');
    await pilot.waitFor();
    expect(await pilot.getAttribute('data-status')).toBe('in_progress');
    expect(await pilot.textContent()).toContain('in progress');
    expect(await pilot.textContent()).toContain('since 2026-Q2');
    expect(await cell(board, 'defense-model-mou', 'skt').getAttribute('data-status')).toBe('achieved');
    noProblems(board);
  });

  it("shows no cell for Naver Cloud on SK Telecom's MOU milestone, which concerns SK Telecom alone", async () => {
    const board = await open('/?program=defense-ax');

    await signIn(board.page, readerKey);

    await cell(board, 'defense-model-mou', 'skt').waitFor();
    // Participants (SPEC §3, milestone.planned v2 `consortiums`): the seed plans the MOU for SK Telecom alone.
    expect(await cell(board, 'defense-model-mou', 'naver-cloud').count()).toBe(0);
    expect(await board.page.locator('tr[data-milestone="defense-model-mou"] td.no-cell').count()).toBeGreaterThan(0);
  });

  it('changes the matrix when asOf moves to 2026-04-15, and a link copied from the URL reopens the same view', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').waitFor();
    const matrixNow = await board.page.locator('#matrix-body').innerText();

    await board.page.getByLabel('As of (world time)').fill('2026-04-15');

    await expect.poll(() => new URL(board.page.url()).searchParams.get('asOf')).toBe('2026-04-15');
    // SK Telecom enrolled in May 2026: on 15 April it has no cell in Defense AX yet.
    await expect.poll(() => cell(board, 'lightweight-pilot', 'skt').count()).toBe(0);
    const matrixThen = await board.page.locator('#matrix-body').innerText();
    expect(matrixThen).not.toEqual(matrixNow);
    const link = board.page.url();
    expect(link).not.toContain(readerKey);

    const copy = await open(new URL(link).pathname + new URL(link).search);
    await signIn(copy.page, readerKey);
    await expect.poll(() => copy.page.locator('#matrix-body').innerText()).toEqual(matrixThen);
    expect(await copy.page.getByLabel('As of (world time)').inputValue()).toBe('2026-04-15');

    await copy.page.getByRole('button', { name: 'Now' }).click();
    await expect.poll(() => new URL(copy.page.url()).searchParams.get('asOf')).toBeNull();
    await expect.poll(() => copy.page.locator('#matrix-body').innerText()).toEqual(matrixNow);
    noProblems(board);
    noProblems(copy);
  });

  it('says a part of the board could not be loaded in that part, leaving nothing drawn for another cut-off, and tells such a program from one not yet registered', async () => {
    const board = await open('/?program=defense-ax&consortium=skt');
    await signIn(board.page, readerKey);
    await board.page.locator('#standing-body article').first().waitFor();
    // The service failing on two reads, as an overloaded database would (503).
    const unavailable = { status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: '/problems/database-unavailable', title: 'Database unavailable', status: 503, detail: 'the database cannot be reached right now' }) };
    await board.page.route('**/v1/consortiums/skt/status**', (route) => route.fulfill(unavailable));
    await board.page.route('**/v1/programs/kr-sovereign-ai/milestones**', (route) => route.fulfill(unavailable));

    await board.page.getByLabel('As of (world time)').fill('2026-07-01');

    await expect.poll(() => board.page.locator('#standing-body').innerText()).toContain('Could not load this part of the board: the database cannot be reached right now');
    expect(await board.page.locator('#standing-body article').count()).toBe(0);
    const card = board.page.locator('#program-list li[data-program="kr-sovereign-ai"]');
    await expect.poll(() => card.innerText()).toContain('Could not load its milestones');
    expect(await card.innerText()).not.toContain('Not yet registered');
    // The parts that could be read are drawn at the new cut-off.
    await expect.poll(() => board.page.locator('#program-list li[data-program="defense-ax"]').innerText()).toContain('milestone');
    await cell(board, 'lightweight-pilot', 'skt').waitFor();
  });

  it('shows nothing read for another view while the service cannot be read, and draws the view asked for once it answers again', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').waitFor();
    // The service gone (every API request refused), then the cut-off moved.
    await board.page.route('**/v1/**', (route) => route.abort('connectionrefused'));

    await board.page.getByLabel('As of (world time)').fill('2026-04-15');

    await expect.poll(() => board.page.locator('#board-error').innerText()).toContain('Trying again in 5 s');
    // Said as what it means, not in the browser's words alone ("Failed to fetch"; probe of large cells).
    expect(await board.page.locator('#board-error').innerText()).toContain('no answer from the service (Failed to fetch): it, or the network to it, may be down');
    // Today's matrix (SK Telecom's pilot, enrolled in May) would pass for 15 April under the controls.
    expect(await cell(board, 'lightweight-pilot', 'skt').count()).toBe(0);
    for (const panel of ['#program-list', '#matrix-body', '#timeline-body']) {
      expect(await board.page.locator(panel).innerText(), panel).toBe('Not shown: the board could not be read for this view.');
    }

    await board.page.unroute('**/v1/**');

    // The parts are drawn side by side: each is waited for, not read the moment another is there.
    await expect.poll(() => board.page.locator('#matrix-body').innerText(), { timeout: 25_000 }).not.toContain('Not shown');
    await expect.poll(() => board.page.locator('#program-list li[data-program="defense-ax"]').count()).toBe(1);
    await expect.poll(() => board.page.locator('#timeline-body').innerText()).not.toContain('Not shown');
    expect(await board.page.locator('#board-error').innerText()).toBe('');
    expect(await cell(board, 'lightweight-pilot', 'skt').count()).toBe(0);
    expect(new URL(board.page.url()).searchParams.get('asOf')).toBe('2026-04-15');
  });

  it("says in the timeline what each event is about: the consortium by name and the milestone", async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);

    const pilot = board.page.locator('#timeline-body .timeline-list li', { hasText: 'pilot.started' });
    await expect.poll(() => pilot.first().textContent()).toContain('pilot.started (SK Telecom consortium · lightweight-pilot)');
    const label = board.page.locator('#timeline-body svg g.event', { hasText: 'pilot.started' }).locator('title');
    // The writers' words isolated (U+2068 … U+2069): the next test's.
    expect((await label.first().textContent())?.replace(/[\u2068\u2069]/g, '')).toContain('pilot.started (SK Telecom consortium · lightweight-pilot)');
    noProblems(board);
  });

  it("marks an eliminated consortium's column in the matrix, so that its cancelled cells are told from other cancellations", async () => {
    const programId = 'board-elimination';
    await api('POST', '/v1/events', {
      events: [
        { type: 'program.registered', occurredAt: '2026-01', data: { programId, name: 'Elimination program' } },
        { type: 'consortium.registered', occurredAt: '2026-01', data: { consortiumId: 'elim-a', name: 'Alpha consortium', lead: 'Alpha' } },
        { type: 'consortium.registered', occurredAt: '2026-01', data: { consortiumId: 'elim-b', name: 'Beta consortium', lead: 'Beta' } },
        { type: 'consortium.enrolled', occurredAt: '2026-02', data: { consortiumId: 'elim-a', programId } },
        { type: 'consortium.enrolled', occurredAt: '2026-02', data: { consortiumId: 'elim-b', programId } },
        { type: 'milestone.planned', occurredAt: '2026-02', data: { programId, milestone: 'pilot', title: 'Pilot', scope: 'consortium' } },
        { type: 'consortium.eliminated', occurredAt: '2026-06', data: { consortiumId: 'elim-b', programId, reason: 'cut' } },
        // More facts on its cell than a cell shows evidence (20): the elimination is not among the latest
        // (until 2026-12-06 the board looked for it there, and lost the mark).
        ...Array.from({ length: 21 }, (_, i) => ({
          type: 'milestone.started',
          occurredAt: `2026-07-${String(i + 1).padStart(2, '0')}`,
          data: { programId, milestone: 'pilot', consortiumId: 'elim-b' },
        })),
      ],
    });
    const board = await open(`/?program=${programId}`);
    await signIn(board.page, readerKey);

    const header = (id: string) => board.page.locator(`#matrix-body thead th[data-column="${id}"]`);
    await expect.poll(() => header('elim-b').innerText()).toContain('eliminated 2026-06');
    expect(await header('elim-a').innerText()).not.toContain('eliminated');
    noProblems(board);
  });

  it("follows the consortium shown as well as the program: a change of its cell in another program moves its standing while live (probe of the board's paging)", async () => {
    await api('POST', '/v1/events', {
      events: [
        { type: 'program.registered', occurredAt: '2026-01', data: { programId: 'standing-live-a', name: 'Standing A' } },
        { type: 'program.registered', occurredAt: '2026-01', data: { programId: 'standing-live-b', name: 'Standing B' } },
        { type: 'consortium.registered', occurredAt: '2026-01', data: { consortiumId: 'standing-live-c', name: 'Standing consortium', lead: 'Lead' } },
        { type: 'consortium.enrolled', occurredAt: '2026-02', data: { consortiumId: 'standing-live-c', programId: 'standing-live-a' } },
        { type: 'consortium.enrolled', occurredAt: '2026-02', data: { consortiumId: 'standing-live-c', programId: 'standing-live-b' } },
        { type: 'milestone.planned', occurredAt: '2026-02', data: { programId: 'standing-live-b', milestone: 'pilot', title: 'Pilot', scope: 'consortium' } },
      ],
    });
    const board = await open('/?program=standing-live-a&consortium=standing-live-c');
    await signIn(board.page, readerKey);
    const row = board.page.locator('#standing-body article[data-program="standing-live-b"] tr[data-milestone="pilot"]');
    await expect.poll(() => row.innerText()).toContain('planned');
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');

    await api('POST', '/v1/events', { type: 'milestone.started', occurredAt: '2026-03', data: { programId: 'standing-live-b', milestone: 'pilot', consortiumId: 'standing-live-c' } });

    await expect.poll(() => row.innerText(), { timeout: 15_000 }).toContain('in progress');
    // Two feeds now, one a subject.
    expect(await board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    noProblems(board);
  });

  it('says no program is registered at a cut-off before any was, rather than showing an empty list', async () => {
    const board = await open('/?asOf=2020-01-01');
    await signIn(board.page, readerKey);

    await expect.poll(() => board.page.locator('#program-list').innerText()).toBe('No program is registered at this cut-off.');
    noProblems(board);
  });

  it("draws no live change from another view's lists while the view's own cannot be read, and draws the view once they can", async () => {
    const programId = 'lists-down';
    await programWithMilestone(programId, 'review');
    const board = await open(`/?program=${programId}`);
    await signIn(board.page, readerKey);
    await board.page.locator('#matrix-body button.cell').first().waitFor();
    await expect.poll(() => board.page.locator('#live-state').innerText()).toBe('Live updates: on');
    await board.page.route(/\/v1\/(programs|consortiums)\?/, (route) => route.abort('connectionrefused'));

    await board.page.getByLabel('As of (world time)').fill('2026-07-01');
    await expect.poll(() => board.page.locator('#board-error').innerText()).toContain('Trying again in');
    await startMilestone(programId, 'review');
    await board.page.waitForTimeout(1_500);

    // The change on the feed drew nothing from the lists of the view before.
    expect(await board.page.locator('#matrix-body').innerText()).toBe('Not shown: the board could not be read for this view.');
    await board.page.unroute(/\/v1\/(programs|consortiums)\?/);
    // Waited for by what is drawn: the error line is cleared at the start of every retry, also of one that fails.
    await expect.poll(() => board.page.locator('#matrix-body').innerText(), { timeout: 25_000 }).toContain('in progress');
    expect(await board.page.locator('#board-error').innerText()).toBe('');
  });

  it("reads again a program card whose milestones could not be read (a 503), and draws it once they can be", async () => {
    const board = await open('/');
    await signIn(board.page, readerKey);
    const card = await cardFailedOnce(board);

    await expect.poll(() => card.innerText(), { timeout: 15_000 }).toMatch(/\d+ milestones?\n/);
    expect(await card.innerText()).not.toContain('Could not load');
  });

  it("reads again a program card that could not be read though a live change of the program shown comes before its retry", async () => {
    await programWithMilestone('live-before-retry', 'outreach');
    const board = await open('/?program=live-before-retry');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    const card = await cardFailedOnce(board);

    // Before the card's retry (5 s): the program shown changes, and is read again live.
    await startMilestone('live-before-retry', 'outreach');
    await expect.poll(() => cell(board, 'outreach', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');

    await expect.poll(() => card.innerText(), { timeout: 15_000 }).toMatch(/\d+ milestones?\n/);
  });

  it('reads a part that failed again only if it may pass (a 503, not a 400), later, and only that part', async () => {
    const problemAnswer = (status: number, detail: string) => ({ status, contentType: 'application/problem+json', body: JSON.stringify({ type: '/problems/x', title: 'x', status, detail }) });
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').waitFor();
    const reads = { timeline: 0, matrix: 0 };
    let timelineAnswer: ReturnType<typeof problemAnswer> | undefined = problemAnswer(400, 'refused as such');
    await board.page.route('**/v1/timeline**', (route) => {
      reads.timeline++;
      const answer = timelineAnswer;
      return answer === undefined ? route.continue() : route.fulfill(answer);
    });
    await board.page.route(/\/v1\/programs\/defense-ax\/milestones\?.*expand=evidence/, (route) => {
      reads.matrix++;
      return route.continue();
    });

    await board.page.getByLabel('As of (world time)').fill('2026-07-01');
    await expect.poll(() => board.page.locator('#timeline-body').innerText()).toContain('Could not load this part of the board: refused as such');
    const afterRefusal = { ...reads };
    await board.page.waitForTimeout(6_500);
    // A refusal would be refused again: nothing is read again.
    expect(reads).toEqual(afterRefusal);

    timelineAnswer = problemAnswer(503, 'overloaded');
    await board.page.getByLabel('As of (world time)').fill('2026-07-02');
    await expect.poll(() => board.page.locator('#timeline-body').innerText()).toContain('overloaded');
    const afterFailure = { ...reads };
    timelineAnswer = undefined;

    await expect.poll(() => board.page.locator('#timeline-body').innerText(), { timeout: 15_000 }).not.toContain('Could not load');
    // The timeline alone was read again; the matrix, drawn, was not.
    expect(reads.timeline).toBe(afterFailure.timeline + 1);
    expect(reads.matrix).toBe(afterFailure.matrix);
  });

  it("opens a cell's evidence: date, type, title and its sources as links", async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);

    await cell(board, 'lightweight-pilot', 'skt').click();

    const evidence = board.page.locator('#evidence');
    const source = evidence.getByRole('link', { name: /ZDNet Korea/ });
    await source.waitFor();
    expect(await source.getAttribute('href')).toBe('https://news.example/skt-defense-pilot');
    expect(await source.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await evidence.innerText()).toContain('2026-Q2');
    expect(await evidence.innerText()).toContain('pilot.started');
    noProblems(board);
  });

  it("keeps a cell's evidence open once live updates are on: the feed starts from now, not from the program's past", async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    await cell(board, 'lightweight-pilot', 'skt').click();
    await board.page.locator('#evidence a').first().waitFor();

    // Longer than the board waits before redrawing on a change (300 ms): a replayed change would have redrawn it.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    expect(await board.page.locator('#evidence').isVisible()).toBe(true);
    noProblems(board);
  });

  it('opens a cell from the keyboard and moves focus to its evidence', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);

    await cell(board, 'lightweight-pilot', 'skt').focus();
    await board.page.keyboard.press('Enter');

    await expect.poll(() => board.page.evaluate('document.activeElement.id')).toBe('evidence-heading');
    await board.page.locator('#evidence a').first().waitFor();
    // The next Tab reaches "Close evidence", before the entries and their links (probe of large cells).
    await board.page.keyboard.press('Tab');
    expect(await board.page.evaluate('document.activeElement.id')).toBe('evidence-close');
  });

  it('closes a cell\'s evidence with Escape and puts focus back on the cell', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').focus();
    await board.page.keyboard.press('Enter');
    await expect.poll(() => board.page.evaluate('document.activeElement.id')).toBe('evidence-heading');

    await board.page.keyboard.press('Escape');

    await expect.poll(() => board.page.locator('#evidence').isHidden()).toBe(true);
    expect(await board.page.evaluate('document.activeElement.dataset.milestone + " " + document.activeElement.dataset.consortium')).toBe('lightweight-pilot skt');
    noProblems(board);
  });

  it('saves the matrix, the standing and the timeline as CSV files: every page of each, one header row, a byte-order mark for Excel, all at one knownAt', async () => {
    const board = await blankBoard();
    // Pages of one row, so that the standing (SKT is in two programs) and the timeline take several.
    await pageTold(board, /\/\?program=defense-ax&consortium=skt$/, 'ml-page-size', '1');
    let csvPages = 0;
    board.page.on('request', (request) => {
      if (request.headers().accept === 'text/csv') csvPages++;
    });
    await board.page.goto(`${service?.url}/?program=defense-ax&consortium=skt`);
    await signIn(board.page, readerKey);
    await board.page.locator('#standing-body article').first().waitFor();
    const save = async (name: string) => {
      const [file] = await Promise.all([board.page.waitForEvent('download'), board.page.getByRole('button', { name }).click()]);
      const path = await file.path();
      return { name: file.suggestedFilename(), text: readFileSync(path, 'utf8') };
    };
    const recordsOf = (text: string) => z.array(z.record(z.string(), z.string())).parse(parse(text.replace(/^\uFEFF/, ''), { columns: true }));
    const headerRows = (text: string) => {
      const [header, ...lines] = text.replace(/^\uFEFF/, '').split('\r\n');
      return 1 + lines.filter((line) => line === header).length;
    };
    const timeline = z.object({ events: z.array(z.object({ id: z.string() })) }).parse(await api('GET', '/v1/timeline?programId=defense-ax&consortiumId=skt&limit=1000'));

    for (const [button, rows] of [['Download milestones (CSV)', undefined], ['Download standing (CSV)', undefined], ['Download timeline (CSV)', timeline.events.length]] as const) {
      const file = await save(button);
      expect(file.text.startsWith('\uFEFF')).toBe(true);
      // One header row, whatever the number of pages.
      expect(headerRows(file.text)).toBe(1);
      const records = recordsOf(file.text);
      expect(records.length).toBeGreaterThan(1);
      if (rows !== undefined) expect(records).toHaveLength(rows);
      // Every row says the one instant the file was read at (the pages were asked at it).
      const knownAt = new Set(records.map((r) => r.cutoffKnownAt));
      expect([...knownAt]).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT/)]);
      expect(await board.page.getByRole('button', { name: button }).evaluate((b) => b.nextElementSibling?.textContent)).toBe(`Download started: ${file.name}.`);
    }
    // The matrix, one answer; then a page a row: SKT's two programs, the timeline's events.
    expect(csvPages).toBe(1 + 2 + timeline.events.length);
    // The timeline's rows are its events, each once.
    const ids = recordsOf((await save('Download timeline (CSV)')).text).map((r) => r.id);
    expect([...ids].sort()).toEqual(timeline.events.map((e) => e.id).sort());
    noProblems(board);
  });

  it('marks a cell whose status is not yet certain: the Q2 pilot as of 15 May 2026', async () => {
    const board = await open('/?program=defense-ax&consortium=skt&asOf=2026-05-15');

    await signIn(board.page, readerKey);

    const pilot = cell(board, 'lightweight-pilot', 'skt');
    await pilot.waitFor();
    expect(await pilot.getAttribute('data-status')).toBe('in_progress');
    // `certain` (SPEC §2.1) is a cell field the API is gaining; without it the board shows no mark.
    expect(await pilot.locator('.uncertain').count()).toBe(1);
    expect(await pilot.locator('.uncertain').textContent()).toContain('not certain yet');
    // The consortium's standing marks it alike; the `?` is seen, "not certain yet" read out.
    const standing = board.page.locator('#standing-body tr[data-milestone="lightweight-pilot"] .uncertain');
    await standing.waitFor();
    expect(await standing.locator('.visually-hidden').textContent()).toBe(' not certain yet');
    expect(await standing.locator('[aria-hidden="true"]').textContent()).toBe(' ?');
  });

  it('fits a phone-width screen: the page does not scroll sideways, the matrix scrolls in its own region', async () => {
    const board = await open('/?program=defense-ax&consortium=skt', { viewport: { width: 390, height: 844 } });

    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').waitFor();
    await board.page.locator('#standing-body table').first().waitFor();

    const overflowing = await board.page.evaluate(
      "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 391 && !e.closest('.table-scroll, .timeline-scroll')).map((e) => e.tagName + '#' + e.id + '.' + e.className)",
    );
    expect(overflowing).toEqual([]);
    expect(await board.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await board.page.getByRole('region', { name: '\u2068Defense AX\u2069 matrix, scrollable' }).isVisible()).toBe(true);
    noProblems(board);
  });

  it('passes an automated accessibility check (axe-core) with no serious or critical violation, wide and phone-width', async () => {
    for (const viewport of [{ width: 1400, height: 900 }, { width: 390, height: 844 }]) {
      // axe is injected as an inline script: this context alone lets it past the page's CSP.
      const board = await open('/?program=defense-ax&consortium=skt', { viewport, bypassCSP: true });
      await signIn(board.page, readerKey);
      await cell(board, 'lightweight-pilot', 'skt').click();
      await board.page.locator('#evidence a').first().waitFor();
      await board.page.locator('#standing-body table').first().waitFor();

      await board.page.addScriptTag({ content: AXE_SOURCE });
      // A string, evaluated in the page: the test's own TypeScript knows nothing of the DOM.
      const violations = AxeViolations.parse(
        await board.page.evaluate(
          "axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')) })))",
        ),
      );

      expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'), `at ${viewport.width} px`).toEqual([]);
    }
  });

  it('writes a screenshot of the matrix for the README', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').click();
    await board.page.locator('#evidence a').first().waitFor();

    await mkdir(fileURLToPath(new URL('../screenshots/', import.meta.url)), { recursive: true });
    await board.page.locator('#matrix').screenshot({ path: SCREENSHOT });

    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).toBe('PNG');
    noProblems(board);
  });

  it('shows a hostile event title as text, with no script error, CSP violation or dialog', async () => {
    await api('POST', '/v1/events', {
      type: 'seminar.held',
      occurredAt: '2026-07',
      data: { title: HOSTILE_TITLE, programId: 'defense-ax' },
      sources: [{ url: 'https://news.example/hostile', title: HOSTILE_TITLE }],
    });
    const board = await open('/?program=defense-ax');

    await signIn(board.page, readerKey);

    const titles = board.page.locator('#timeline-body .event-title');
    await expect.poll(() => titles.allTextContents()).toContain(` ${HOSTILE_TITLE}`);
    expect(await board.page.locator('img').count()).toBe(0);
    expect(await board.page.locator('#timeline-body svg text', { hasText: HOSTILE_TITLE }).count()).toBe(1);
    noProblems(board);
    // The watch is live and the policy enforced: an inline script is refused and reported.
    await board.page.evaluate("document.head.append(Object.assign(document.createElement('script'), { textContent: 'window.ran = true' }))");
    await expect.poll(() => board.problems.cspViolations.length).toBe(1);
    expect(await board.page.evaluate('window.ran')).toBeUndefined();
  });

  it('draws the board\'s own words after a writer\'s text in their order, though that text holds a right-to-left override it never ends (probe of the board\'s text)', async () => {
    const name = 'Program \u202eNAME-RLO';
    const sponsor = 'Ministry \u202eYRTSINIM';
    const title = '\u202eELTIT ENOTSELIM';
    const consortium = 'Consortium \u202eMUITROSNOC';
    const publisher = 'Press \u202eSSERP';
    await api('POST', '/v1/events', {
      events: [
        { type: 'program.registered', occurredAt: '2026-01', data: { programId: 'a-rlo', name, sponsor } },
        { type: 'milestone.planned', occurredAt: '2026-01', data: { programId: 'a-rlo', milestone: 'rlo-milestone', title, scope: 'program' } },
        { type: 'consortium.registered', occurredAt: '2026-01', data: { consortiumId: 'c-rlo', name: consortium, lead: 'Lead \u202eDAEL', models: ['Model'] } },
        { type: 'consortium.enrolled', occurredAt: '2026-01', data: { consortiumId: 'c-rlo', programId: 'a-rlo' } },
        {
          type: 'seminar.held',
          occurredAt: '2026-02-01',
          data: { programId: 'a-rlo', milestone: 'rlo-milestone', title: 'Seminar' },
          sources: [{ url: 'https://news.example/rlo', publisher, publishedAt: '2026-02-01' }],
        },
      ],
    });
    const board = await open('/?program=a-rlo&consortium=c-rlo');
    await signIn(board.page, readerKey);
    await cell(board, 'rlo-milestone', '').click();
    await board.page.locator('#evidence a').first().waitFor();
    await board.page.locator('#timeline-body svg').waitFor();

    // Each: where the writer's text is, the text, and the board's words after it.
    const places: [string, string, string][] = [
      ['#matrix-heading', name, ': milestones'],
      ['#matrix-body > p', sponsor, '. Open a cell'],
      ['#evidence-heading', title, ', Program-wide'],
      ['#evidence .sources li', publisher, ' (2026-02-01)'],
      ['#standing-heading', consortium, ': standing'],
      ['#standing-body p', 'Lead \u202eDAEL', '; models'],
      ['#timeline-body svg text', consortium, ')'],
    ];
    const reversed: string[] = [];
    for (const [selector, before, after] of places) {
      const [beforeEnds, afterStarts] = await drawnEdges(board, selector, before, after);
      if (afterStarts < beforeEnds - 1) reversed.push(`${selector}: "${after}" drawn before "${before}"`);
    }
    expect(reversed).toEqual([]);
    noProblems(board);
  });

  it("isolates a writer's text where no element can (a region's name, a picker's option, a timeline tooltip), so that an override it never ends stops at its edge (until 2026-12-07 only the text drawn was isolated)", async () => {
    const name = 'Program \u202eEMAN-OSI';
    const consortium = 'Consortium \u202eMUITROSNOC-OSI';
    await api('POST', '/v1/events', {
      events: [
        { type: 'program.registered', occurredAt: '2026-01', data: { programId: 'b-iso', name } },
        { type: 'milestone.planned', occurredAt: '2026-01', data: { programId: 'b-iso', milestone: 'iso-milestone', title: 'Milestone', scope: 'consortium' } },
        { type: 'consortium.registered', occurredAt: '2026-01', data: { consortiumId: 'c-iso', name: consortium, lead: 'Lead', models: ['Model'] } },
        { type: 'consortium.enrolled', occurredAt: '2026-01', data: { consortiumId: 'c-iso', programId: 'b-iso' } },
      ],
    });
    const board = await open('/?program=b-iso&consortium=c-iso');
    await signIn(board.page, readerKey);
    await board.page.locator('#standing-body .table-scroll').first().waitFor();
    await board.page.locator('#timeline-body svg').waitFor();
    const isolated = (text: string) => `\u2068${text}\u2069`;

    expect(await board.page.locator('#matrix-body .matrix-scroll').getAttribute('aria-label')).toBe(`${isolated(name)} matrix, scrollable`);
    expect(await board.page.locator('#standing-body .table-scroll').first().getAttribute('aria-label')).toBe(`${isolated(consortium)} in ${isolated(name)}, scrollable`);
    expect(await board.page.locator('#program-filter option[value="b-iso"]').textContent()).toBe(isolated(name));
    expect(await board.page.locator('#consortium-filter option[value="c-iso"]').textContent()).toBe(isolated(consortium));
    const tooltip = await board.page.locator('#timeline-body svg g.event', { hasText: 'consortium.enrolled' }).locator('title').first().textContent();
    expect(tooltip).toContain(isolated(consortium));
    noProblems(board);
  });

  it("fits the page to the window with names, titles and sources as long and unbroken as the API takes: the page does not scroll sideways, wide or phone-width (probe of the board's text)", async () => {
    await programOfLongText('long-text-fits', 'long-text-fits-c');
    for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
      const board = await open('/?program=long-text-fits&consortium=long-text-fits-c', { viewport });
      await signIn(board.page, readerKey);
      // Opened without a pointer: whether a pointer reaches the cell is the next test's.
      await cell(board, LONG_MILESTONE, '').dispatchEvent('click');
      await board.page.locator('#evidence a').first().waitFor();
      await board.page.locator('#standing-body table').first().waitFor();
      await board.page.locator('#timeline-body svg').waitFor();

      const overflowing = await board.page.evaluate(
        `[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > ${viewport.width + 1} && !e.closest('.table-scroll, .timeline-scroll')).map((e) => e.tagName + '#' + e.id + '.' + e.className)`,
      );
      expect(overflowing, `at ${viewport.width} px`).toEqual([]);
      expect(await board.page.evaluate('document.documentElement.scrollWidth'), `at ${viewport.width} px`).toBeLessThanOrEqual(viewport.width);
      noProblems(board);
    }
  });

  it("keeps the cells of a milestone with a long unbroken id and title within reach of a click: its name, kept in view as the matrix scrolls, does not cover them (probe of the board's text)", async () => {
    await programOfLongText('long-text-reach', 'long-text-reach-c');
    for (const viewport of [{ width: 1280, height: 900 }, { width: 390, height: 844 }]) {
      const board = await open('/?program=long-text-reach', { viewport });
      await signIn(board.page, readerKey);
      await cell(board, LONG_MILESTONE, '').waitFor();

      expect(await reachable(board, `#matrix button.cell[data-milestone="${LONG_MILESTONE}"]`), `at ${viewport.width} px`).toBe(true);
      await cell(board, LONG_MILESTONE, '').click({ timeout: 3000 });
      await expect.poll(() => board.page.locator('#evidence-heading').textContent()).toBe(`Evidence: ${LONG_TITLE}, Program-wide`);
      noProblems(board);
    }
  });

  it('leaves each cell keyboard focus reaches clear of the milestone column on a phone, a row of five consortiums gone through back with Shift+Tab (review of the day: some sat wholly under it)', async () => {
    const programId = 'five-wide';
    const consortiums = ['fw-a', 'fw-b', 'fw-c', 'fw-d', 'fw-e'];
    await api('POST', '/v1/events', {
      events: [
        { type: 'program.registered', occurredAt: '2026-01', data: { programId, name: 'Five wide' } },
        { type: 'milestone.planned', occurredAt: '2026-01', data: { programId, milestone: 'pilot', title: 'Pilot', scope: 'consortium' } },
        ...consortiums.flatMap((consortiumId) => [
          { type: 'consortium.registered', occurredAt: '2026-01', data: { consortiumId, name: `Consortium ${consortiumId}`, lead: 'Lead', models: [] } },
          { type: 'consortium.enrolled', occurredAt: '2026-01', data: { consortiumId, programId } },
        ]),
      ],
    });
    const board = await open(`/?program=${programId}`, { viewport: { width: 390, height: 844 } });
    await signIn(board.page, readerKey);
    const cells = board.page.locator('#matrix tbody tr[data-milestone="pilot"] button.cell');
    await expect.poll(() => cells.count()).toBe(5);
    await cells.last().focus();
    const covered: number[] = [];
    for (let i = 4; i >= 0; i--) {
      if (i < 4) await board.page.keyboard.press('Shift+Tab');
      const clear = await board.page.evaluate(`(() => {
        const target = document.activeElement;
        const box = target.getBoundingClientRect();
        const column = target.closest('tr').querySelector('th').getBoundingClientRect();
        return box.left >= column.right - 1 && target.contains(document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2));
      })()`);
      if (clear !== true) covered.push(i);
    }

    expect(covered).toEqual([]);
    noProblems(board);
  });

  it('holds no live feed while its tab is hidden, and draws what is now when shown again', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    const setHidden = (hidden: boolean) =>
      board.page.evaluate(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${hidden} }); document.dispatchEvent(new Event('visibilitychange'))`);

    await cell(board, 'lightweight-pilot', 'skt').click();
    await board.page.locator('#evidence a').first().waitFor();

    await setHidden(true);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: off');
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-06-20', data: { title: 'Hidden-tab seminar', programId: 'defense-ax' } });
    // A view drawn while hidden (here a new asOf) opens no feed either.
    await board.page.getByLabel('As of (world time)').fill('2026-12-31');
    await expect.poll(() => board.page.locator('#timeline-body').innerText()).toContain('Hidden-tab seminar');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await board.page.locator('#live-state').textContent()).toBe('Live updates: off');
    await cell(board, 'lightweight-pilot', 'skt').click();
    await board.page.locator('#evidence a').first().waitFor();
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-06-21', data: { title: 'Seen once shown', programId: 'defense-ax' } });
    await setHidden(false);

    // Shown again, the page draws what is now, keeps the evidence that was open, and follows again.
    await expect.poll(() => board.page.locator('#timeline-body').innerText()).toContain('Seen once shown');
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    expect(await board.page.locator('#evidence').isVisible()).toBe(true);
    noProblems(board);
  });

  it('draws no view for a year still being typed into a date (0002 on the way to 2026)', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').waitFor();

    const entries = await board.page.evaluate('history.length');

    await board.page.getByLabel('As of (world time)').fill('0002-04-15');
    await board.page.getByLabel('As of (world time)').fill('2026-04-15');

    await expect.poll(() => new URL(board.page.url()).searchParams.get('asOf')).toBe('2026-04-15');
    expect(await board.page.evaluate('history.length')).toBe(Number(entries) + 1);
    expect(await board.page.locator('#board-error').innerText()).toBe('');
    noProblems(board);
  });

  it('updates the matrix without a reload when a status changes (the live feed, over fetch with the Bearer header)', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    await board.page.evaluate('window.sameDocument = true');

    await api('POST', '/v1/events', {
      type: 'pilot.completed',
      occurredAt: '2026-06-30',
      data: { consortiumId: 'skt', programId: 'defense-ax', milestone: 'lightweight-pilot', outcome: 'Pilot ended' },
    });

    await expect.poll(() => cell(board, 'lightweight-pilot', 'skt').getAttribute('data-status'), { timeout: 15_000 }).toBe('achieved');
    expect(await board.page.evaluate('window.sameDocument')).toBe(true);
    noProblems(board);
  });
  it('says its live updates are paused, not reconnecting, while the key holds as many feeds as it may (429 too-many-feeds), and follows once one is free', async () => {
    const board = await blankBoard();
    let refused = 0;
    await board.page.route(/\/v1\/feed\?/, (route) => {
      if (refused >= 2) return route.continue();
      refused++;
      return route.fulfill({
        status: 429,
        headers: { 'retry-after': '1' },
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: '/problems/too-many-feeds', title: 'Too many live feeds open with this API key', status: 429, detail: 'this API key already has 10 live feeds open here; close one first, or retry in 1 s' }),
      });
    });
    await board.page.goto(`${service?.url}/?program=defense-ax`);
    await signIn(board.page, readerKey);

    await expect
      .poll(() => board.page.locator('#live-state').textContent())
      .toBe('Live updates: paused (this API key already has 10 live feeds open here; close one first, or retry in 1 s); trying again');
    // The views are drawn meanwhile, and the feed asked for again after Retry-After.
    await cell(board, 'lightweight-pilot', 'skt').waitFor();
    await expect.poll(() => board.page.locator('#live-state').textContent(), { timeout: 15_000 }).toBe('Live updates: on');
    expect(refused).toBe(2);
    expect(board.problems.errors.filter((error) => !error.includes('status of 429'))).toEqual([]);
  });

  it('keeps a cell\'s evidence open, focus in it, when a live change redraws the matrix; closing it returns focus to the cell', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    await cell(board, 'defense-model-mou', 'skt').focus();
    await board.page.keyboard.press('Enter');
    await board.page.locator('#evidence li').first().waitFor();

    // Another cell of the program changes: the matrix is drawn again.
    await api('POST', '/v1/events', { type: 'milestone.started', occurredAt: '2026-07', data: { consortiumId: 'skt', programId: 'defense-ax', milestone: 'military-ai-datacenter' } });
    await expect.poll(() => cell(board, 'military-ai-datacenter', 'skt').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');

    expect(await board.page.locator('#evidence').isVisible()).toBe(true);
    expect(await board.page.locator('#evidence-heading').innerText()).toContain('MOU with the Ministry of National Defense');
    expect(await board.page.evaluate('document.activeElement?.id')).toBe('evidence-heading');
    await board.page.getByRole('button', { name: 'Close evidence' }).press('Enter');
    expect(await board.page.evaluate('[document.activeElement?.dataset.milestone, document.activeElement?.dataset.consortium]')).toEqual(['defense-model-mou', 'skt']);
    noProblems(board);
  });
  it("shows a cell's whole evidence on asking, beyond the 20 latest the cell carries, from its evidence pages", async () => {
    await programWithMilestone('many-seminars', 'outreach', 25);
    const board = await open('/?program=many-seminars');
    await signIn(board.page, readerKey);

    await cell(board, 'outreach', '').click();
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    expect(await board.page.locator('#evidence').innerText()).toContain('The 20 latest of 25.');
    await board.page.getByRole('button', { name: 'Show all 25' }).click();

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(25);
    expect(await board.page.locator('#evidence .evidence-list > li .evidence-title').allTextContents()).toContain('Seminar 1');
    expect(await board.page.locator('#evidence').innerText()).not.toContain('latest of');
    noProblems(board);
  });
  it("lists a cell's latest evidence up to the board's most, saying so and offering every entry in the evidence CSV; its counts are announced, and focus waits on the heading while the rest are read (probe of the board's evidence)", async () => {
    await programWithMilestone('evidence-most', 'outreach', 25);
    const board = await blankBoard();
    await pageTold(board, /\/\?program=evidence-most$/, 'ml-most-evidence', '22');
    await board.page.goto(`${service?.url}/?program=evidence-most`);
    await signIn(board.page, readerKey);
    await cell(board, 'outreach', '').click();
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    expect(await board.page.locator('#evidence-status').textContent()).toBe('The 20 latest of 25, newest first in world time.');

    await board.page.getByRole('button', { name: 'Show the 22 latest of 25' }).press('Enter');

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(22);
    expect(await board.page.locator('#evidence-status').textContent()).toBe('The 22 latest of 25, newest first in world time.');
    expect(await board.page.locator('#evidence-body').innerText()).toContain('every entry is in the evidence CSV');
    expect(await board.page.evaluate('document.activeElement?.id')).toBe('evidence-heading');
    const [file] = await Promise.all([board.page.waitForEvent('download'), board.page.getByRole('button', { name: 'Download evidence (CSV)' }).click()]);
    const rows = z.array(z.object({ title: z.string() })).parse(parse(readFileSync(await file.path(), 'utf8').replace(/^\uFEFF/, ''), { columns: true }));
    expect(rows.map((r) => r.title)).toEqual(Array.from({ length: 25 }, (_, n) => `Seminar ${25 - n}`));
    noProblems(board);
  });
  it("lists a cell's evidence in a scroll region of its own, so that a long list leaves the page short: the region scrolls to its last entry (probe of large cells)", async () => {
    await programWithMilestone('evidence-region', 'outreach', 28);
    const board = await open('/?program=evidence-region');
    await signIn(board.page, readerKey);
    await cell(board, 'outreach', '').click();
    await board.page.getByRole('button', { name: 'Show all 28' }).click();
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(28);
    const viewport = board.page.viewportSize()?.height ?? NaN;

    // The whole panel, 28 entries and all, fits within the window's height.
    expect((await board.page.locator('#evidence').boundingBox())?.height).toBeLessThan(viewport);
    // Its region scrolls: the last entry comes into its sight.
    const region = board.page.getByRole('region', { name: 'Evidence entries, scrollable' });
    expect(await region.evaluate((element) => element.scrollHeight > element.clientHeight)).toBe(true);
    await region.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    const box = await region.boundingBox();
    const last = (await board.page.locator('#evidence .evidence-list > li').last().boundingBox())?.y ?? NaN;
    expect(last).toBeGreaterThanOrEqual(box?.y ?? NaN);
    expect(last).toBeLessThan((box?.y ?? NaN) + (box?.height ?? NaN));
    noProblems(board);
  });
  it("keeps the text a reader selected in a cell's evidence when a live change adds an entry to it: the entries shown stay, the new one goes in among them", async () => {
    await programWithMilestone('evidence-selected', 'outreach', 25);
    const board = await wholeEvidenceLive('evidence-selected');
    await board.page.evaluate(SELECT_SEMINAR_10);

    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-selected', milestone: 'outreach', title: 'Seminar 26' } });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(26);
    expect(await evidenceTitles(board)).toEqual(Array.from({ length: 26 }, (_, n) => `Seminar ${26 - n}`));
    expect(await board.page.evaluate('getSelection().toString()')).toBe('Seminar 10');
    noProblems(board);
  });
  it("keeps the text a reader selected in a cell's evidence when a live change retracts entries above it (review of the in-place list)", async () => {
    await programWithMilestone('evidence-selected-retracted', 'outreach', 25);
    const board = await wholeEvidenceLive('evidence-selected-retracted');
    await board.page.evaluate(SELECT_SEMINAR_10);

    await retractFiveLatest(board, 'evidence-selected-retracted');

    expect(await evidenceTitles(board)).toEqual(TWENTY_LEFT);
    expect(await board.page.evaluate('getSelection().toString()')).toBe('Seminar 10');
    noProblems(board);
  });
  it("keeps the text a reader selected in a cell's evidence when a live change takes its list past 100 entries, from which it lays out only what is near its sight (review of the in-place list)", async () => {
    const board = await wholeEvidenceFrom2025('evidence-long', 100);
    expect(await board.page.locator('#evidence .evidence-list.long').count()).toBe(0);
    await board.page.evaluate(SELECT_SEMINAR_10);

    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-06-01', data: { programId: 'evidence-long', milestone: 'outreach', title: 'Seminar 101' } });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(101);
    expect(await board.page.locator('#evidence .evidence-list.long').count()).toBe(1);
    expect((await evidenceTitles(board)).slice(0, 2)).toEqual(['Seminar 101', 'Seminar 100']);
    expect(await board.page.evaluate('getSelection().toString()')).toBe('Seminar 10');
    // Numbered still, inside each item (an outside marker is not painted by a contained item), and a list to every reader.
    expect(await board.page.evaluate(`getComputedStyle(document.querySelector('#evidence .evidence-list.long > li'), '::before').content`)).toBe('"1."');
    expect(await board.page.locator('#evidence .evidence-list.long').getAttribute('role')).toBe('list');
    noProblems(board);
  });
  it('numbers every entry inside it, and numbers them anew in place when a live change adds entries above, short list or long (probe of the list under churn)', async () => {
    const board = await wholeEvidenceFrom2025('evidence-numbers', 99);
    const numbers = `[...document.querySelectorAll('#evidence .evidence-list > li')].map((li) => li.getAttribute('data-n'))`;
    const inOrder = (n: number) => Array.from({ length: n }, (_, at) => String(at + 1));
    // Drawn inside the entry, in its gutter, where the scroll region cannot cut it: the 20th read "0." when it was the browser's marker.
    const drawn = `(() => { const li = document.querySelectorAll('#evidence .evidence-list > li')[19]; const before = getComputedStyle(li, '::before'); return [before.content, before.position, before.left, getComputedStyle(li).paddingLeft]; })()`;
    expect(await board.page.evaluate(numbers)).toEqual(inOrder(99));
    expect(await board.page.evaluate(drawn)).toEqual(['"20."', 'absolute', '0px', '56px']);
    expect(await board.page.locator('#evidence .evidence-list').getAttribute('role')).toBe('list');
    await board.page.evaluate(`document.querySelectorAll('#evidence .evidence-list > li')[9].dataset.mark = 'kept'`);

    await api('POST', '/v1/events', { events: seminarsFrom2026('evidence-numbers', 2) });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(101);
    expect(await board.page.locator('#evidence .evidence-list.long').count()).toBe(1);
    expect(await board.page.evaluate(numbers)).toEqual(inOrder(101));
    // The same element, moved on by two, and drawn so: updated in place, not drawn anew.
    expect(await board.page.evaluate(`getComputedStyle(document.querySelector('#evidence li[data-mark="kept"]'), '::before').content`)).toBe('"12."');
    noProblems(board);
  });
  it('holds the entry after the one the reader looked at still when that one is retracted while entries are added above it (probe of the list under churn)', async () => {
    const board = await wholeEvidenceFrom2025('evidence-stand-in', 150);
    const looked = board.page.locator('#evidence .evidence-list > li', { has: board.page.getByText('Seminar 75', { exact: true }) });
    const next = board.page.locator('#evidence .evidence-list > li', { has: board.page.getByText('Seminar 74', { exact: true }) });
    // The region scrolled so that Seminar 75 is the first entry in sight, its top 20 px out of it, the window so that the region is whole in sight.
    await board.page.evaluate(`(() => {
      const li = [...document.querySelectorAll('#evidence .evidence-list > li')].find((entry) => entry.querySelector('.evidence-title')?.textContent === 'Seminar 75');
      const region = li.closest('.evidence-scroll');
      region.scrollIntoView({ block: 'start' });
      region.scrollTop += li.getBoundingClientRect().top - region.getBoundingClientRect().top + 20;
    })()`);
    const nextAt = (await next.boundingBox())?.y ?? NaN;
    const retracted = await looked.getAttribute('data-event');

    await api('POST', '/v1/events', { events: [...seminarsFrom2026('evidence-stand-in', 30), { type: 'event.retracted', data: { eventId: retracted, reason: 'misreported' } }] });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(179);
    // A second-frame correction may follow the update.
    await board.page.waitForTimeout(200);
    expect(Math.abs(((await next.boundingBox())?.y ?? NaN) - nextAt)).toBeLessThan(5);
    noProblems(board);
  });
  it('moves focus from a link of an entry a live change retracts to the heading, not to the link of the entry after it (review of the list under churn)', async () => {
    await programWithMilestone('evidence-focus-gone', 'outreach');
    await seminarsWithSources('evidence-focus-gone', 'outreach', 25);
    const board = await wholeEvidenceLive('evidence-focus-gone');
    const link = board.page.locator('#evidence a[href="https://news.example/seminar-10"]');
    await link.focus();
    const retracted = await board.page.locator('#evidence .evidence-list > li', { has: board.page.locator('a[href="https://news.example/seminar-10"]') }).getAttribute('data-event');

    await api('POST', '/v1/events', { type: 'event.retracted', data: { eventId: retracted, reason: 'misreported' } });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(24);
    expect(await board.page.evaluate('document.activeElement?.id')).toBe('evidence-heading');
    noProblems(board);
  });
  it("holds the entry in the window's sight still, not the entry focus is in, when that one is scrolled out of the window's sight (review of the list under churn)", async () => {
    const board = await wholeEvidenceFrom2025('evidence-focus-away', 60, { withSources: true });
    // Focus on a link of the region's first entry in sight; then the window scrolled on, that entry 250 px above it.
    const focusedTitle = String(
      await board.page.evaluate(`(() => {
        const region = document.querySelector('#evidence .evidence-scroll');
        region.scrollTop = region.scrollHeight / 2;
        const top = region.getBoundingClientRect().top;
        const entry = [...document.querySelectorAll('#evidence .evidence-list > li')].find((li) => li.getBoundingClientRect().bottom > top);
        entry.querySelector('a').focus({ preventScroll: true });
        window.scrollBy(0, entry.getBoundingClientRect().top + 250);
        return entry.querySelector('.evidence-title').textContent;
      })()`),
    );
    const href = await board.page.evaluate('document.activeElement?.getAttribute("href")');
    const inSight = String(await board.page.evaluate(`[...document.querySelectorAll('#evidence .evidence-list > li')].find((li) => li.getBoundingClientRect().top >= 0)?.querySelector('.evidence-title')?.textContent`));
    const entry = board.page.locator('#evidence .evidence-list > li', { has: board.page.getByText(inSight, { exact: true }) });
    const at = (await entry.boundingBox())?.y ?? NaN;

    await api('POST', '/v1/events', { events: seminarsFrom2026('evidence-focus-away', 10) });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(70);
    expect(inSight).not.toBe(focusedTitle);
    expect(Math.abs(((await entry.boundingBox())?.y ?? NaN) - at)).toBeLessThan(5);
    expect(await board.page.evaluate('document.activeElement?.getAttribute("href")')).toBe(href);
    noProblems(board);
  });
  it("holds the entry in the window's sight still, not the region's first above the window, when a live change adds entries above it (probe of the list under churn)", async () => {
    const board = await wholeEvidenceFrom2025('evidence-window', 60);
    // The region scrolled half way, and the window 250 px past the region's top: its first entries in its own sight are above the window.
    await board.page.evaluate(`(() => { const region = document.querySelector('#evidence .evidence-scroll'); region.scrollTop = region.scrollHeight / 2; window.scrollBy(0, region.getBoundingClientRect().top + 250); })()`);
    const inSight = String(await board.page.evaluate(`[...document.querySelectorAll('#evidence .evidence-list > li')].find((li) => li.getBoundingClientRect().top >= 0)?.querySelector('.evidence-title')?.textContent`));
    const entry = board.page.locator('#evidence .evidence-list > li', { has: board.page.getByText(inSight, { exact: true }) });
    const at = (await entry.boundingBox())?.y ?? NaN;

    await api('POST', '/v1/events', { events: seminarsFrom2026('evidence-window', 10) });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(70);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(Math.abs(((await entry.boundingBox())?.y ?? NaN) - at)).toBeLessThan(5);
    noProblems(board);
  });
  it("keeps focus on a cell's evidence list, which the keyboard scrolls, when a live change adds an entry to it (review of the scroll region)", async () => {
    await programWithMilestone('evidence-region-focus', 'outreach', 25);
    const board = await wholeEvidenceLive('evidence-region-focus');
    await board.page.getByRole('region', { name: 'Evidence entries, scrollable' }).focus();

    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-region-focus', milestone: 'outreach', title: 'Seminar 26' } });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(26);
    expect(await board.page.evaluate('document.activeElement?.className')).toBe('evidence-scroll');
    noProblems(board);
  });
  it("keeps focus on the same entry's link, and that entry where it stood on the screen, when a live change adds entries above it (probe of the board's evidence)", async () => {
    await programWithMilestone('evidence-place', 'outreach');
    await seminarsWithSources('evidence-place', 'outreach', 25);
    const board = await wholeEvidenceLive('evidence-place');
    const link = board.page.locator('#evidence a[href="https://news.example/seminar-10"]');
    await link.focus();
    const before = (await link.boundingBox())?.y ?? NaN;

    // Two seminars later in world time than Seminar 10, each with a link: both come above it in the
    // list, so its link's place among the list's links moves on by two.
    await api('POST', '/v1/events', {
      events: ['2026-02-27', '2026-02-28'].map((occurredAt) => ({
        type: 'seminar.held',
        occurredAt,
        data: { programId: 'evidence-place', milestone: 'outreach', title: `Late ${occurredAt}` },
        sources: [{ url: `https://news.example/late-${occurredAt}`, publisher: 'News' }],
      })),
    });

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(27);
    expect(await board.page.evaluate('document.activeElement?.getAttribute("href")')).toBe('https://news.example/seminar-10');
    expect(Math.abs(((await link.boundingBox())?.y ?? NaN) - before)).toBeLessThan(5);
    noProblems(board);
  });
  it("keeps the entries shown when the rest of a cell's evidence cannot be read, says so with a button to try again, and reads it again by itself once the service answers (probe of the board's evidence)", async () => {
    // Each with a link: focus on "Try again now" must not go to whichever link takes its place.
    await programWithMilestone('evidence-retry', 'outreach');
    await seminarsWithSources('evidence-retry', 'outreach', 25);
    const board = await open('/?program=evidence-retry');
    await signIn(board.page, readerKey);
    await cell(board, 'outreach', '').click();
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    let failing = true;
    await board.page.route(/\/evidence\?/, (route) =>
      failing
        ? route.fulfill(UNAVAILABLE)
        : route.continue(),
    );

    await board.page.getByRole('button', { name: 'Show all 25' }).click();

    await expect.poll(() => board.page.locator('#evidence .evidence-error').innerText()).toContain('Could not load the evidence: the database cannot be reached now. Trying again in 5 s.');
    expect(await board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    // Its status says what is shown, not "Loading…" (probe of the evidence panel's reads).
    expect(await board.page.locator('#evidence-status').textContent()).toBe('The 20 latest of 25, newest first in world time.');
    // Tried again by itself, failing again: the next wait doubles.
    await expect.poll(() => board.page.locator('#evidence .evidence-error').innerText(), { timeout: 15_000 }).toContain('Trying again in 10 s.');
    expect(await board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    // Asked from the keyboard and failing again: focus stays on the (new) button (probe of the day's fixes).
    await board.page.getByRole('button', { name: 'Try again now' }).press('Enter');
    await expect.poll(() => board.page.locator('#evidence .evidence-error').innerText()).toContain('Trying again in 20 s.');
    expect(await board.page.evaluate('document.activeElement?.className')).toBe('evidence-retry');
    failing = false;
    // Asked now, from the keyboard: the list comes whole, and focus, whose button went, waits on the heading.
    await board.page.getByRole('button', { name: 'Try again now' }).press('Enter');
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(25);
    expect(await board.page.locator('#evidence .evidence-error').count()).toBe(0);
    expect(await board.page.evaluate('document.activeElement?.id')).toBe('evidence-heading');
  });
  it("reads a cell's evidence no more once the reader signs out, while a retry was planned, and does not say the key was refused (review of the evidence's retry)", async () => {
    await programWithMilestone('evidence-sign-out', 'outreach', 25);
    const board = await open('/?program=evidence-sign-out');
    await signIn(board.page, readerKey);
    await cell(board, 'outreach', '').click();
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    let evidenceReads = 0;
    await board.page.route(/\/evidence\?/, (route) => {
      evidenceReads++;
      return route.fulfill(UNAVAILABLE);
    });
    await board.page.getByRole('button', { name: 'Show all 25' }).click();
    await expect.poll(() => board.page.locator('#evidence .evidence-error').innerText()).toContain('Trying again in 5 s.');
    const readsBefore = evidenceReads;

    await board.page.getByRole('button', { name: 'Sign out' }).click();
    await new Promise((resolve) => setTimeout(resolve, 7000));

    expect(evidenceReads).toBe(readsBefore);
    expect(await board.page.locator('#sign-in-error').textContent()).toBe('');
  });
  it("leaves the reader where they scrolled to while a cell's whole evidence was read again for a live change (review of the evidence's place)", async () => {
    await programWithMilestone('evidence-scrolled', 'outreach', 25);
    const board = await wholeEvidenceLive('evidence-scrolled');
    await board.page.locator('#evidence .evidence-list > li').nth(10).scrollIntoViewIfNeeded();
    let evidenceReads = 0;
    await board.page.route(/\/evidence\?/, async (route) => {
      evidenceReads++;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await route.continue();
    });
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-scrolled', milestone: 'outreach', title: 'Seminar 26' } });
    await expect.poll(() => evidenceReads, { timeout: 15_000 }).toBeGreaterThan(0);

    // While it is read, the reader goes down to the timeline.
    await board.page.locator('#timeline-heading').scrollIntoViewIfNeeded();
    const scrolled = Number(await board.page.evaluate('window.scrollY'));
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(26);

    expect(Number(await board.page.evaluate('window.scrollY'))).toBeGreaterThan(scrolled - 100);
    noProblems(board);
  });
  it("reads every page of a cell's whole evidence at the instant the first was answered at: a fact and a retraction recorded together while it pages show both or neither (probe of the board's evidence)", async () => {
    await programWithMilestone('evidence-pinned', 'outreach', 25);
    const retracted = z
      .object({ evidence: z.array(z.object({ id: z.string(), title: z.string() })) })
      .parse(await api('GET', '/v1/programs/evidence-pinned/milestones/outreach/evidence?limit=100'))
      .evidence.find((e) => e.title === 'Seminar 2');
    const board = await blankBoard();
    await pageTold(board, /\/\?program=evidence-pinned$/, 'ml-page-size', '10');
    // No live feed: nothing reads the list again after the batch below.
    await board.page.route(/\/v1\/feed/, (route) => route.abort());
    let recorded = false;
    await board.page.route(/\/evidence\?.*after=/, async (route) => {
      if (!recorded) {
        recorded = true;
        // After the first page (Seminars 25 to 16): one above it, and the retraction of one on the last page.
        await api('POST', '/v1/events', {
          events: [
            { type: 'seminar.held', occurredAt: '2026-02-28', data: { programId: 'evidence-pinned', milestone: 'outreach', title: 'Late seminar' } },
            { type: 'event.retracted', data: { eventId: retracted?.id, reason: 'misreported' } },
          ],
        });
      }
      await route.continue();
    });
    await board.page.goto(`${service?.url}/?program=evidence-pinned`);
    await signIn(board.page, readerKey);
    await cell(board, 'outreach', '').click();

    await board.page.getByRole('button', { name: 'Show all 25' }).click();

    await expect.poll(() => board.page.locator('#evidence-status').textContent()).toMatch(/newest first/);
    expect(recorded).toBe(true);
    // As recorded when the first page was read: Seminar 2 still there, the late seminar not yet.
    expect(await board.page.locator('#evidence .evidence-list > li .evidence-title').allTextContents()).toEqual(Array.from({ length: 25 }, (_, n) => `Seminar ${25 - n}`));
  });
  it('draws a card, with its counts, for the first 24 programs and the one shown, reading no other program\'s milestones and the shown one\'s once, and says how many more there are', async () => {
    if (service === undefined) throw new Error('no service');
    const ids = Array.from({ length: 30 }, (_, i) => `zz-many-${String(i).padStart(2, '0')}`);
    await api('POST', '/v1/events', { events: ids.map((programId) => ({ type: 'program.registered', occurredAt: '2026-01', data: { programId, name: programId } })) });
    const registered = z.object({ programs: z.array(z.unknown()) }).parse(await api('GET', '/v1/programs?limit=1000')).programs.length;
    const board = await blankBoard();
    const matrixReads: string[] = [];
    board.page.on('request', (request) => {
      if (/\/v1\/programs\/[^/?]+\/milestones/.test(request.url())) matrixReads.push(request.url());
    });
    await board.page.goto(`${service.url}/?program=zz-many-29`);
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');

    const cards = board.page.locator('#program-list > li[data-program]');
    await expect.poll(() => cards.count()).toBe(25);
    expect(await board.page.locator('#program-list li[data-program="zz-many-29"]').innerText()).toContain('0 milestones');
    expect(await board.page.locator('#program-list .more-programs').innerText()).toBe(`${registered - 25} more programs: choose one with Program above.`);
    // A card each (24, and the one shown), and the matrix shown: until 2026-12-05 one read per program registered, each draw.
    const programsRead = new Set(matrixReads.map((url) => /\/v1\/programs\/([^/?]+)\/milestones/.exec(url)?.[1]));
    expect(programsRead.size).toBe(25);
    expect(programsRead.has('zz-many-29')).toBe(true);
    // The shown program's card and matrix share one read (until 2026-12-06, one each).
    expect(matrixReads.filter((url) => url.includes('/v1/programs/zz-many-29/milestones')).length).toBe(1);
    noProblems(board);
  });
  it('scrolls to the matrix of a program chosen in the Program list, which comes after the cards, on a narrow screen', async () => {
    await api('POST', '/v1/events', {
      events: Array.from({ length: 30 }, (_, i) => ({ type: 'program.registered', occurredAt: '2026-01', data: { programId: `scroll-${String(i).padStart(2, '0')}`, name: `Scroll ${i}` } })),
    });
    const board = await open('/', { viewport: { width: 390, height: 700 } });
    await signIn(board.page, readerKey);
    await board.page.locator('#program-list li[data-program]').first().waitFor();

    await board.page.locator('#program-filter').selectOption('kr-sovereign-ai');

    await board.page.locator('#matrix button.cell').first().waitFor();
    await expect.poll(async () => (await board.page.locator('#matrix-heading').boundingBox())?.y ?? -1).toBeGreaterThanOrEqual(0);
    expect((await board.page.locator('#matrix-heading').boundingBox())?.y ?? 9999).toBeLessThan(700);
    noProblems(board);
  });
  it('shows an asOf of a calendar period in the date control as its last day, which means the same', async () => {
    for (const [asOf, day] of [['2026-06', '2026-06-30'], ['2026-Q2', '2026-06-30'], ['2026-H1', '2026-06-30'], ['2026-Q4', '2026-12-31'], ['2025', '2025-12-31'], ['2024-02', '2024-02-29'], ['2026-05-14', '2026-05-14']]) {
      const board = await open(`/?program=defense-ax&asOf=${asOf}`);
      await signIn(board.page, readerKey);
      await board.page.locator('#program-list li').first().waitFor();
      await expect.poll(() => board.page.locator('#programs').getAttribute('aria-busy')).toBe(null);

      expect(await board.page.getByLabel('As of (world time)').inputValue(), asOf).toBe(day);
    }
  });
  it("shows a timeline range of years, halves and quarters from a link in the month controls as their first and last months, which mean the same (probe of the board's paging)", async () => {
    for (const [from, to, fromMonth, toMonth] of [['2025-Q2', '2025-Q3', '2025-04', '2025-09'], ['2025-H2', '2026', '2025-07', '2026-12'], ['2025', '2025-H1', '2025-01', '2025-06'], ['2025-05', '2025-05', '2025-05', '2025-05']]) {
      const board = await open(`/?program=defense-ax&from=${from}&to=${to}`);
      await signIn(board.page, readerKey);
      await board.page.locator('#program-list li').first().waitFor();

      expect([await board.page.getByLabel('From (month)').inputValue(), await board.page.getByLabel('To (month, included)').inputValue()], `${from}–${to}`).toEqual([fromMonth, toMonth]);
    }
  });
  it("leaves the cut-off controls empty for a day that does not exist (2026-02-30), as for a month 13, rather than showing the day it rolls over to (probe of the board's text)", async () => {
    // 2026 is not a leap year: its 29 February does not exist either.
    const cases: [string, string][] = [['2026-13', '2026-13'], ['2026-02-30', '2026-02-30'], ['2025-04-31', '2026-02-30T10:00:00Z'], ['2026-02-29', '2026-02-29T23:59:59+09:00']];
    for (const [asOf, knownAt] of cases) {
      const board = await open(`/?program=defense-ax&asOf=${asOf}&knownAt=${encodeURIComponent(knownAt)}`);
      await signIn(board.page, readerKey);
      await expect.poll(() => board.page.locator('#resolved').textContent()).toBe(`Showing as of ${asOf} (days in UTC), as known at ${knownAt}.`);

      expect(await board.page.getByLabel('As of (world time)').inputValue(), asOf).toBe('');
      expect(await board.page.getByLabel('Known at (recorded by, your time zone)').inputValue(), knownAt).toBe('');
    }
  });
  it("says under the controls that as-of days are UTC days, and the moment a known-at reaches to in UTC and in the reader's zone with its offset, so that the two 01:30s of the night New York's clocks go back read apart (probe of dates)", async () => {
    const cases: [string, string][] = [
      // 01:30 EDT, then 01:30 EST an hour later: the control shows 01:30 for both.
      ['2026-11-01T05:30:00.999Z', 'to 2026-11-01 05:30:00.999 UTC; 2026-11-01 01:30:00 GMT-4 in your time zone'],
      ['2026-11-01T06:30:00.999Z', 'to 2026-11-01 06:30:00.999 UTC; 2026-11-01 01:30:00 GMT-5 in your time zone'],
      // A month reaches to its last millisecond.
      ['2026-06', 'to 2026-06-30 23:59:59.999 UTC; 2026-06-30 19:59:59 GMT-4 in your time zone'],
      // Lower-case t and z, which the service takes too (review of the day: the line and the control went empty).
      ['2026-06-30t10:00:00z', 'to 2026-06-30 10:00:00.000 UTC; 2026-06-30 06:00:00 GMT-4 in your time zone'],
    ];
    for (const [knownAt, said] of cases) {
      const board = await open(`/?program=defense-ax&asOf=2026-06-30&knownAt=${encodeURIComponent(knownAt)}`, { timezoneId: 'America/New_York' });
      await signIn(board.page, readerKey);
      await expect.poll(() => board.page.locator('#resolved').textContent()).toBe(`Showing as of 2026-06-30 (days in UTC), as known at ${knownAt} (${said}).`);
    }
  });
  it('shows a knownAt of a calendar period in its control as the last second it covers, in the browser\'s time zone', async () => {
    const board = await open('/?program=defense-ax&knownAt=2026-06');
    await signIn(board.page, readerKey);
    await board.page.locator('#program-list li').first().waitFor();

    const expected = String(await board.page.evaluate(`(() => { const d = new Date(Date.UTC(2026, 6, 1) - 1000); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19); })()`));
    expect(await board.page.getByLabel('Known at (recorded by, your time zone)').inputValue()).toBe(expected);
  });
  it('keeps a knownAt to the millisecond when its control is committed as it shows it, and takes a second typed there as the end of that second (probe of the board)', async () => {
    const board = await open('/?program=defense-ax&knownAt=2026-06-15T08:14:39.639Z');
    await signIn(board.page, readerKey);
    await board.page.locator('#program-list li').first().waitFor();
    const control = board.page.getByLabel('Known at (recorded by, your time zone)');
    const knownAt = () => new URL(board.page.url()).searchParams.get('knownAt');

    await control.dispatchEvent('change');
    expect(knownAt()).toBe('2026-06-15T08:14:39.639Z');

    const local = async (utc: number) => String(await board.page.evaluate(`(() => { const d = new Date(${utc}); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19); })()`));
    await control.fill(await local(Date.UTC(2026, 5, 15, 9, 0, 5)));
    await expect.poll(knownAt).toBe('2026-06-15T09:00:05.999Z');
    // A second :00, which the browser writes without its seconds (review): the end of that second, not of the minute.
    await control.fill(await local(Date.UTC(2026, 5, 15, 9, 30, 0)));
    await expect.poll(knownAt).toBe('2026-06-15T09:30:00.999Z');
    // And a knownAt of a link whose second is :00, committed as shown, stays as it is.
    await board.page.goto(`${service?.url ?? ''}/?program=defense-ax&knownAt=2026-06-15T08:14:00.500Z`);
    await board.page.locator('#program-list li').first().waitFor();
    await control.dispatchEvent('change');
    expect(knownAt()).toBe('2026-06-15T08:14:00.500Z');
    noProblems(board);
  });
  it('follows live changes at a knownAt in the future, or in a period still running, which the service answers as of now; not at one in the past', async () => {
    await programWithMilestone('live-future-known', 'outreach');
    const board = await open('/?program=live-future-known&knownAt=2100-01-01T00:00:00.000Z');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');

    await startMilestone('live-future-known', 'outreach');

    await expect.poll(() => cell(board, 'outreach', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');
    // This year, still running: its end is in the future.
    await board.page.goto(`${service?.url ?? ''}/?program=live-future-known&knownAt=${new Date().getUTCFullYear()}`);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    await board.page.goto(`${service?.url ?? ''}/?program=live-future-known&knownAt=2026-01-01T00:00:00.000Z`);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: off');
    noProblems(board);
  });
  it("keeps a cell's whole evidence shown, and the entry in sight where it stood, when a live change redraws the matrix", async () => {
    await programWithMilestone('many-seminars-live', 'outreach', 25);
    const board = await wholeEvidenceLive('many-seminars-live');
    await board.page.locator('#evidence .evidence-list > li').nth(20).scrollIntoViewIfNeeded();
    const scrolled = Number(await board.page.evaluate('window.scrollY'));
    const inSight = board.page.locator('#evidence .evidence-list > li', { hasText: 'Seminar 5' });
    const inSightAt = (await inSight.boundingBox())?.y ?? NaN;
    // The evidence pages read again slowly: meanwhile the list shown stays, and the page where it was.
    let evidenceReads = 0;
    await board.page.route(/\/evidence\?/, async (route) => {
      evidenceReads++;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });

    // Another seminar of the cell shown: its whole evidence is read again.
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'many-seminars-live', milestone: 'outreach', title: 'Seminar 26' } });

    await expect.poll(() => evidenceReads, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await board.page.locator('#evidence .evidence-list > li').count()).toBe(25);
    expect(Math.abs(Number(await board.page.evaluate('window.scrollY')) - scrolled)).toBeLessThan(50);
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(26);
    expect(await board.page.getByRole('button', { name: /Show all/ }).count()).toBe(0);
    // Seminar 26 came above: the page follows the entry that was in sight, which stands where it stood.
    expect(Math.abs(((await inSight.boundingBox())?.y ?? NaN) - inSightAt)).toBeLessThan(5);
    noProblems(board);
  });
  it("reads a cell's whole evidence again for a live change that may move that cell, not for one of another milestone", async () => {
    await programWithMilestone('show-all-quiet', 'outreach', 25);
    await api('POST', '/v1/events', { type: 'milestone.planned', occurredAt: '2026-01', data: { programId: 'show-all-quiet', milestone: 'other', title: 'other', scope: 'program' } });
    const board = await wholeEvidenceLive('show-all-quiet');
    const evidenceReads: string[] = [];
    board.page.on('request', (request) => {
      if (request.url().includes('/evidence?')) evidenceReads.push(request.url());
    });

    // Another milestone starts: the matrix is read again, the whole evidence of outreach is not.
    await startMilestone('show-all-quiet', 'other');
    await expect.poll(() => cell(board, 'other', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');
    expect(evidenceReads).toEqual([]);
    expect(await board.page.locator('#evidence .evidence-list > li').count()).toBe(25);

    // A seminar of outreach itself: read again, all 26.
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'show-all-quiet', milestone: 'outreach', title: 'Seminar 26' } });
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(26);
    expect(evidenceReads.length).toBeGreaterThan(0);
    noProblems(board);
  });
  it("reads a busy cell's whole evidence again at most every 5 s while its changes keep coming, the changes of those seconds together (probe of the day's fixes: once a second, 300 requests a minute)", async () => {
    await programWithMilestone('show-all-busy', 'outreach', 25);
    const board = await wholeEvidenceLive('show-all-busy');
    const evidenceReads: number[] = [];
    board.page.on('request', (request) => {
      if (request.url().includes('/evidence?')) evidenceReads.push(Date.now());
    });

    // A seminar of the cell every 400 ms for 3.2 s: each moves it, and the matrix is read again each second.
    for (let n = 0; n < 8; n++) {
      await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'show-all-busy', milestone: 'outreach', title: `Busy ${n}` } });
      await new Promise((resolve) => setTimeout(resolve, 400));
    }

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 20_000 }).toBe(33);
    // One read of the list (a page) for all eight, or two if the last came as the first was read.
    expect(evidenceReads.length).toBeGreaterThan(0);
    expect(evidenceReads.length).toBeLessThanOrEqual(2);
    noProblems(board);
  });
  it("draws a busy cell's whole evidence anew while its changes keep coming faster than a read of it takes (review of the 5 s bound: every read was dropped for the next change's)", async () => {
    await programWithMilestone('show-all-slow', 'outreach', 25);
    const board = await wholeEvidenceLive('show-all-slow');
    // Each read of the list takes 1.5 s; a change of the cell comes every 0.8 s.
    await board.page.route(/\/evidence\?/, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    const shownWhileChanging: number[] = [];
    for (let n = 0; n < 14; n++) {
      await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'show-all-slow', milestone: 'outreach', title: `Slow ${n}` } });
      await new Promise((resolve) => setTimeout(resolve, 800));
      shownWhileChanging.push(await board.page.locator('#evidence .evidence-list > li').count());
    }

    // Drawn anew before the changes stopped, not only after.
    expect(Math.max(...shownWhileChanging)).toBeGreaterThan(25);
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 20_000 }).toBe(39);
    noProblems(board);
  });
  it("reads again for a change that came while a reopened cell's whole evidence was read, though the read of its earlier opening ended after the change (review of the reused evidence: that read took the change's read for itself)", async () => {
    await programWithMilestone('evidence-reopened', 'outreach', 25);
    const board = await open('/?program=evidence-reopened');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    const reads = await holdWholeReads(board);
    // Opened, its whole list asked for; opened anew, its whole list asked for again: both reads held.
    for (const opening of [1, 2]) {
      await cell(board, 'outreach', '').click();
      await board.page.getByRole('button', { name: 'Show all 25' }).click();
      await expect.poll(reads.held).toBe(opening);
    }
    // A change while the second opening's read is under way: read once that read ends.
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-reopened', milestone: 'outreach', title: 'While reopened' } });
    await expect.poll(() => cell(board, 'outreach', '').innerText(), { timeout: 15_000 }).toMatch(/(^|\s)26 evidence/);

    // The first opening's read lands (dropped), then the second's, as asked before the change.
    await reads.release();
    await reads.release();
    reads.stop();

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 15_000 }).toBe(26);
    expect((await evidenceTitles(board))[0]).toBe('While reopened');
    noProblems(board);
  });
  it("draws no whole list read before retractions over the shorter one they left, drawn while it was read (review of the reused evidence)", async () => {
    const { board, reads } = await wholeReadHeld('evidence-shrinks');

    // The five latest retracted while the whole list is read: the cell holds 20, all shown without a read of the rest.
    await retractFiveLatest(board, 'evidence-shrinks');
    // The read asked before the retractions lands: its answer in the page, and a second for the page to draw it, as it would have.
    const landed = evidenceLanded(board);
    await reads.release();
    reads.stop();
    await landed;
    await new Promise((resolve) => setTimeout(resolve, 1000));

    expect(await evidenceTitles(board)).toEqual(TWENTY_LEFT);
    expect(await board.page.locator('#evidence-status').textContent()).toMatch(/^20 entries/);
    noProblems(board);
  });
  it("draws no whole list read before retractions, and reads the whole list again at once, not after that read, when the cell grows past its 20 latest before it lands (second review of the day's tests; probe of the evidence panel's reads)", async () => {
    const { board, reads } = await wholeReadHeld('evidence-asked-again');

    // While that read is held: the five latest retracted (20 left, all shown), then one more seminar (21).
    await retractFiveLatest(board, 'evidence-asked-again');
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-asked-again', milestone: 'outreach', title: 'Back above' } });

    // The cell, asked whole, is read whole again at once, while the first read is still held: that
    // read will not be drawn, and nothing waits for it (until 2026-12-06, up to the two minutes a read may take).
    await expect.poll(reads.held, { timeout: 15_000 }).toBe(2);
    // The first read's list lands, with the retracted five: it is not drawn.
    const landed = evidenceLanded(board);
    await reads.release();
    await landed;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await evidenceTitles(board)).not.toContain('Seminar 25');
    reads.stop();
    await reads.release();
    await expect.poll(() => evidenceTitles(board)).toEqual(['Back above', ...TWENTY_LEFT]);
    expect(await board.page.locator('#evidence-status').textContent()).toBe('21 entries, newest first in world time.');
    noProblems(board);
  });
  it("keeps a cell's evidence whole once asked, when the cell comes within its 20 latest and grows past them again: it is read whole, with no \"Show all\" to ask for again (probe of the evidence panel's reads)", async () => {
    await programWithMilestone('evidence-whole-kept', 'outreach', 25);
    const board = await wholeEvidenceLive('evidence-whole-kept');
    await retractFiveLatest(board, 'evidence-whole-kept');
    expect(await board.page.getByRole('button', { name: /Show all/ }).count()).toBe(0);

    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-whole-kept', milestone: 'outreach', title: 'Back above' } });

    await expect.poll(() => evidenceTitles(board), { timeout: 15_000 }).toEqual(['Back above', ...TWENTY_LEFT]);
    expect(await board.page.getByRole('button', { name: /Show all/ }).count()).toBe(0);
    expect(await board.page.locator('#evidence-status').textContent()).toBe('21 entries, newest first in world time.');
    noProblems(board);
  });
  it("says nothing of a whole read's failure once its cell came within its 20 latest while it was read, and reads the whole list no more (third review of the day's tests)", async () => {
    const { board, reads } = await wholeReadHeld('evidence-stale-failure');
    await retractFiveLatest(board, 'evidence-stale-failure');
    const readsAfter = evidenceReadsFromNow(board);

    // The read begun before the retractions fails.
    await reads.fail();
    // Past the 5 s a failure waits before its retry.
    await new Promise((resolve) => setTimeout(resolve, 7000));

    expect(await board.page.locator('#evidence .evidence-error').count()).toBe(0);
    expect(readsAfter()).toBe(0);
    expect(await evidenceTitles(board)).toEqual(TWENTY_LEFT);
    expect(board.problems.errors).toEqual(['console: Failed to load resource: the server responded with a status of 503 (Service Unavailable)']);
  });
  it("makes no whole read the reader asked for before its cell came within its 20 latest (fourth review of the day's tests)", async () => {
    const { board, reads } = await wholeReadHeld('evidence-asked-moot');
    // It fails; its retry, 5 s later, is held; the reader asks again meanwhile ("Try again now").
    await reads.fail();
    await expect.poll(reads.held, { timeout: 15_000 }).toBe(1);
    await board.page.getByRole('button', { name: 'Try again now' }).click();
    // The five latest retracted while the retry is held: the cell holds 20, all shown.
    await retractFiveLatest(board, 'evidence-asked-moot');
    const readsAfter = evidenceReadsFromNow(board);

    const landed = evidenceLanded(board);
    await reads.release();
    await landed;
    await new Promise((resolve) => setTimeout(resolve, 2000));

    expect(readsAfter()).toBe(0);
    expect(await board.page.locator('#evidence .evidence-error').count()).toBe(0);
    expect(await evidenceTitles(board)).toEqual(TWENTY_LEFT);
  });
  it("reads a cell's whole evidence once, not twice at once, when the read a live change put off falls due while a retry reads it (review of the reused evidence)", async () => {
    await programWithMilestone('evidence-retry-change', 'outreach', 25);
    const board = await outreachOpenLive('evidence-retry-change');
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    let reads = 0;
    // The first read fails; those after it take 2 s, long enough for a second to begin while one is under way.
    await board.page.route(/\/evidence\?/, async (route) => {
      reads += 1;
      if (reads === 1) {
        return route.fulfill(UNAVAILABLE);
      }
      const response = await route.fetch();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return route.fulfill({ response });
    });
    await board.page.getByRole('button', { name: 'Show all 25' }).click();
    await expect.poll(() => board.page.locator('#evidence .evidence-error').innerText()).toContain('Trying again in 5 s.');

    // A change: its read is put off until 5 s after the failed one ended, just after the retry begins.
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-retry-change', milestone: 'outreach', title: 'After the failure' } });
    await expect.poll(() => cell(board, 'outreach', '').innerText(), { timeout: 15_000 }).toMatch(/(^|\s)26 evidence/);

    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 20_000 }).toBe(26);
    // Long enough for a second read, had one begun with the retry's, to have been asked and answered.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(reads).toBe(2);
    expect((await evidenceTitles(board))[0]).toBe('After the failure');
    // The one failure asked for, and nothing else.
    expect(board.problems).toEqual({ errors: ['console: Failed to load resource: the server responded with a status of 503 (Service Unavailable)'], cspViolations: [], dialogs: [] });
  });
  it("reads a cell's whole evidence once, not twice at once, when a retry planned after a second failure falls due while a read put off for a live change is under way (review of the day's tests)", async () => {
    await programWithMilestone('evidence-retry-during-read', 'outreach', 25);
    const board = await outreachOpenLive('evidence-retry-during-read');
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count()).toBe(20);
    let reads = 0;
    // The first two reads fail; those after take 7 s, past the 10 s retry planned after the second failure.
    await board.page.route(/\/evidence\?/, async (route) => {
      reads += 1;
      if (reads <= 2) {
        return route.fulfill(UNAVAILABLE);
      }
      const response = await route.fetch();
      await new Promise((resolve) => setTimeout(resolve, 7000));
      return route.fulfill({ response });
    });
    await board.page.getByRole('button', { name: 'Show all 25' }).click();
    await expect.poll(() => board.page.locator('#evidence .evidence-error').innerText(), { timeout: 15_000 }).toContain('Trying again in 10 s.');

    // A change: its read is put off until 5 s after the second failure, and is still under way when the retry falls due.
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-27', data: { programId: 'evidence-retry-during-read', milestone: 'outreach', title: 'After two failures' } });
    await expect.poll(() => board.page.locator('#evidence .evidence-list > li').count(), { timeout: 25_000 }).toBe(26);
    // Long enough for a read the retry began, or one it left to follow, to have been asked.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    expect(reads).toBe(3);
    expect((await evidenceTitles(board))[0]).toBe('After two failures');
  });
  it("follows every event of the program shown, not only its status changes: a fact that changes no status now moves a cell's evidence, and its status at an asOf in the past", async () => {
    await programWithMilestone('live-evidence', 'outreach', 1);
    const board = await open('/?program=live-evidence');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    await expect.poll(() => cell(board, 'outreach', '').getAttribute('data-status')).toBe('achieved');
    const evidenceCount = () => cell(board, 'outreach', '').innerText();

    // Achieved already: another seminar changes its evidence, not its status.
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-02-20', data: { programId: 'live-evidence', milestone: 'outreach', title: 'Another' } });
    await expect.poll(evidenceCount, { timeout: 15_000 }).toMatch(/(^|\s)2 evidence/);

    // As of 20 January nothing had happened yet; a fact recorded now, dated before then, changes that past, not the present.
    await board.page.getByLabel('As of (world time)').fill('2026-01-20');
    await expect.poll(() => cell(board, 'outreach', '').getAttribute('data-status')).toBe('planned');
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    await api('POST', '/v1/events', { type: 'milestone.started', occurredAt: '2026-01-15', data: { programId: 'live-evidence', milestone: 'outreach' } });
    await expect.poll(() => cell(board, 'outreach', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');
    noProblems(board);
  });
  it("labels the timeline's axis every 2, 5, 10, … 1,000 years for a long span, with few lines and no label over another: events of 1000 and 9998, which the API takes (probe of the board's text)", async () => {
    await api('POST', '/v1/events', {
      events: [
        { type: 'program.registered', occurredAt: '2026-01', data: { programId: 'far-years', name: 'Far years' } },
        { type: 'seminar.held', occurredAt: '9998', data: { programId: 'far-years', title: 'Far future' } },
        { type: 'seminar.held', occurredAt: '1000-01-01T00:00+05:00', data: { programId: 'far-years', title: 'Far past' } },
      ],
    });
    const board = await open('/?program=far-years');
    await signIn(board.page, readerKey);
    await board.page.locator('#timeline-body svg').waitFor();

    expect(await board.page.locator('#timeline-body svg line.tick').count()).toBeLessThanOrEqual(24);
    expect(await board.page.locator('#timeline-body svg .tick-label').allTextContents()).toEqual(['1000', '2000', '3000', '4000', '5000', '6000', '7000', '8000', '9000']);
    const overlapping = await board.page.evaluate(`(() => {
      const boxes = [...document.querySelectorAll('#timeline-body svg .tick-label')].map((label) => label.getBoundingClientRect()).sort((a, b) => a.left - b.left);
      return boxes.filter((box, i) => i > 0 && box.left < boxes[i - 1].right).length;
    })()`);
    expect(overlapping).toBe(0);
    noProblems(board);
  });

  it('narrows the timeline to a range of months kept in the URL: from and to June 2026 shows June alone', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    const dates = board.page.locator('#timeline-body .timeline-list li .date');
    await expect.poll(async () => (await dates.allTextContents()).some((d) => !d.startsWith('2026-06'))).toBe(true);

    await board.page.getByLabel('From (month)').fill('2026-06');
    await board.page.getByLabel('To (month, included)').fill('2026-06');

    await expect.poll(() => new URL(board.page.url()).search).toContain('from=2026-06&to=2026-06');
    await expect.poll(async () => (await dates.allTextContents()).every((d) => d.startsWith('2026-06'))).toBe(true);
    expect((await dates.allTextContents()).length).toBeGreaterThan(0);
    noProblems(board);
  });
  it('pages the timeline with its own buttons, one page read a click; the pages after the first show what was recorded when the first was read, so a late event recorded meanwhile moves no page under the reader; another range starts at the first page', async () => {
    // 2 definitions and 12 seminars: pages of 5 (the page told a page size of five).
    await programWithMilestone('paged-timeline', 'launch', 12);
    const board = await blankBoard();
    await pageTold(board, /\/\?program=paged-timeline$/, 'ml-page-size', '5');
    const reads: string[] = [];
    board.page.on('request', (request) => {
      if (request.url().includes('/v1/timeline')) reads.push(request.url());
    });
    await board.page.goto(`${service?.url}/?program=paged-timeline`);
    await signIn(board.page, readerKey);
    const pager = board.page.getByRole('navigation', { name: 'Timeline pages' });
    const titles = board.page.locator('#timeline-body .timeline-list li .event-title');
    const shown = async () => (await titles.allTextContents()).map((text) => text.trim());
    await expect.poll(() => pager.innerText()).toContain('Events 1–5, in world-time order.');
    expect(await board.page.locator('#timeline-body svg g.event').count()).toBe(5);
    expect(await pager.getByRole('button').allInnerTexts()).toEqual(['Later events']);
    const firstReads = reads.length;

    await pager.getByRole('button', { name: 'Later events' }).click();
    await expect.poll(() => pager.innerText()).toMatch(/Events 6–10 as recorded by \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(the first page follows live changes\), in world-time order\./);
    expect(await shown()).toEqual(['Seminar 4', 'Seminar 5', 'Seminar 6', 'Seminar 7', 'Seminar 8']);
    expect(reads.length).toBe(firstReads + 1);
    // Focus stays on the way the reader was going.
    expect(await board.page.evaluate('document.activeElement?.textContent')).toBe('Later events');

    // A page that cannot be read leaves the one shown, saying why; its button asks again.
    await board.page.route('**/v1/timeline**', (route) =>
      route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ type: '/problems/x', title: 'x', status: 503, detail: 'overloaded' }) }),
    );
    await pager.getByRole('button', { name: 'Later events' }).click();
    await expect.poll(() => pager.getByRole('alert').innerText()).toBe('Could not load that page: overloaded');
    expect(await pager.innerText()).toContain('Events 6–10');
    expect(await shown()).toEqual(['Seminar 4', 'Seminar 5', 'Seminar 6', 'Seminar 7', 'Seminar 8']);
    await board.page.unroute('**/v1/timeline**');
    await pager.getByRole('button', { name: 'Later events' }).click();
    await expect.poll(() => pager.innerText()).toContain('Events 11–14');
    expect(await pager.getByRole('alert').count()).toBe(0);
    expect(await shown()).toEqual(['Seminar 9', 'Seminar 10', 'Seminar 11', 'Seminar 12']);
    expect(await pager.getByRole('button').allInnerTexts()).toEqual(['First events', 'Earlier events']);
    expect(await board.page.evaluate('document.activeElement?.textContent')).toBe('First events');

    // A late event, recorded while the reader is on the third page, lands on the first. The live
    // change reads the page shown again, as recorded when the first page was read: unchanged, and so
    // are the earlier pages the reader goes back to (read as of each moment, the pages' boundaries
    // moved under the reader, and going back skipped Seminar 3; probe of the board's paging).
    const beforeLate = reads.length;
    await api('POST', '/v1/events', { type: 'seminar.held', occurredAt: '2026-01-15', data: { programId: 'paged-timeline', milestone: 'launch', title: 'Seminar early' } });
    await expect.poll(() => reads.length, { timeout: 15_000 }).toBeGreaterThan(beforeLate);
    await expect.poll(() => board.page.locator('#timeline').getAttribute('aria-busy')).toBe(null);
    expect(await pager.innerText()).toContain('Events 11–14 as recorded by');
    expect(await shown()).toEqual(['Seminar 9', 'Seminar 10', 'Seminar 11', 'Seminar 12']);

    await pager.getByRole('button', { name: 'Earlier events' }).click();
    await expect.poll(() => pager.innerText()).toContain('Events 6–10 as recorded by');
    expect(await shown()).toEqual(['Seminar 4', 'Seminar 5', 'Seminar 6', 'Seminar 7', 'Seminar 8']);
    // The first page is read as it is now: the late event is on it.
    await pager.getByRole('button', { name: 'Earlier events' }).click();
    await expect.poll(() => pager.innerText()).toContain('Events 1–5, in world-time order.');
    expect((await shown()).slice(-3)).toEqual(['Seminar early', 'Seminar 1', 'Seminar 2']);
    expect(await pager.getByRole('button').allInnerTexts()).toEqual(['Later events']);
    // Paged on from it, every event comes once, numbered as it now stands.
    await pager.getByRole('button', { name: 'Later events' }).click();
    await expect.poll(() => pager.innerText()).toContain('Events 6–10 as recorded by');
    expect(await shown()).toEqual(['Seminar 3', 'Seminar 4', 'Seminar 5', 'Seminar 6', 'Seminar 7']);
    await pager.getByRole('button', { name: 'Later events' }).click();
    await expect.poll(() => pager.innerText()).toContain('Events 11–15 as recorded by');
    expect(await shown()).toEqual(['Seminar 8', 'Seminar 9', 'Seminar 10', 'Seminar 11', 'Seminar 12']);
    await pager.getByRole('button', { name: 'First events' }).click();
    await expect.poll(() => pager.innerText()).toContain('Events 1–5, in world-time order.');

    // Another range is another timeline: it starts at its first page.
    await pager.getByRole('button', { name: 'Later events' }).click();
    await expect.poll(() => pager.innerText()).toContain('Events 6–10');
    await board.page.getByLabel('From (month)').fill('2026-02');
    await expect.poll(() => pager.innerText()).toContain('Events 1–5');
    expect(await shown()).toEqual(['Seminar 1', 'Seminar 2', 'Seminar 3', 'Seminar 4', 'Seminar 5']);
    // The browser logs the page refused (a 503) as a console error; nothing else may fail.
    expect(board.problems.errors.filter((error) => !error.includes('status of 503'))).toEqual([]);
    expect(board.problems.cspViolations).toEqual([]);
    expect(board.problems.dialogs).toEqual([]);
  });
  it("reads on past the empty pages a knownAt leaves (events recorded after it), rather than showing them one by one (probe of the board's paging)", async () => {
    const programId = 'paged-known-at';
    const first = z
      .object({ events: z.array(z.object({ recordedAt: z.string() })) })
      .parse(
        await api('POST', '/v1/events', {
          events: [
            { type: 'program.registered', occurredAt: '2026-01', data: { programId, name: programId } },
            { type: 'milestone.planned', occurredAt: '2026-01', data: { programId, milestone: 'launch', title: 'launch', scope: 'program' } },
            { type: 'seminar.held', occurredAt: '2026-06-01', data: { programId, milestone: 'launch', title: 'Known seminar' } },
          ],
        }),
      );
    const knownAt = first.events[0]?.recordedAt ?? '';
    // Recorded after that knownAt, earlier in world time: at the knownAt a page of five reads at most
    // 20 of them (event-store.ts), and leaves them out, so that four pages in a row come back empty.
    await api('POST', '/v1/events', {
      events: Array.from({ length: 100 }, (_, n) => ({
        type: 'seminar.held',
        occurredAt: new Date(Date.UTC(2026, 1, 1) + n * 86_400_000).toISOString().slice(0, 10),
        data: { programId, milestone: 'launch', title: `Later seminar ${n + 1}` },
      })),
    });
    const board = await blankBoard();
    await pageTold(board, new RegExp(`/\\?program=${programId}`), 'ml-page-size', '5');
    await board.page.goto(`${service?.url}/?program=${programId}&knownAt=${knownAt}`);
    await signIn(board.page, readerKey);
    const pager = board.page.getByRole('navigation', { name: 'Timeline pages' });
    const titles = board.page.locator('#timeline-body .timeline-list li .event-title');
    await expect.poll(() => pager.innerText()).toContain('Events 1–2, in world-time order.');

    await pager.getByRole('button', { name: 'Later events' }).click();

    await expect.poll(() => pager.innerText()).toContain('Events 3–3, in world-time order.');
    expect((await titles.allTextContents()).map((t) => t.trim())).toEqual(['Known seminar']);
    expect(await pager.getByRole('button').allInnerTexts()).toEqual(['Earlier events']);
    noProblems(board);
  });
  it('says a program or consortium named in the URL is not registered at the cut-off, rather than showing nothing or an error', async () => {
    const board = await open('/?program=defense-axe&consortium=sk');
    await signIn(board.page, readerKey);

    await expect.poll(() => board.page.locator('#matrix').isVisible()).toBe(true);
    expect(await board.page.locator('#matrix-body').innerText()).toContain("No program 'defense-axe' is registered at this cut-off.");
    expect(await board.page.locator('#standing-body').innerText()).toContain("No consortium 'sk' is registered at this cut-off.");
    expect(await board.page.locator('#timeline-body').innerText()).toContain("No program 'defense-axe' is registered at this cut-off.");
    // Nor is a live feed held for it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await board.page.locator('#live-state').textContent()).toBe('Live updates: off');
    noProblems(board);
  });
  it('stops following a program once the asOf moves before its registration, and follows it again after', async () => {
    const board = await open('/?program=defense-ax');
    await signIn(board.page, readerKey);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');

    await board.page.getByLabel('As of (world time)').fill('2025-12-31');

    await expect.poll(() => board.page.locator('#matrix-body').innerText()).toContain("No program 'defense-ax' is registered at this cut-off.");
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: off');
    await board.page.getByLabel('As of (world time)').fill('2026-12-31');
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    noProblems(board);
  });
  it('misses no change committed while the view is being read: the feed starts before the matrix is read', async () => {
    await programWithMilestone('read-race', 'launch');
    const board = await blankBoard();
    // The first read of the matrix answers what it found, but only after a status change has been
    // committed: a page that starts its feed after reading the views never hears of that change.
    const held = await holdFirstMatrixRead(board, 'read-race', () => startMilestone('read-race', 'launch'));
    await board.page.goto(`${service?.url}/?program=read-race`);
    await signIn(board.page, readerKey);

    await expect.poll(() => cell(board, 'launch', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');
    expect(held()).toBe(true);
    noProblems(board);
  });
  it('misses no change committed while the view is being read while its feed was refused at first (a 503): it reads again once the feed is on', async () => {
    await programWithMilestone('refused-feed', 'launch');
    const board = await blankBoard();
    // The first connection of the feed is refused, so the views are read with no feed started;
    // the matrix's first read answers what it found before a status change is committed.
    // The next connection is let through only once the change is committed, so that the change
    // can only come from a re-read of the views, not from that connection itself.
    let committed: () => void = () => {};
    const changeCommitted = new Promise<void>((resolve) => {
      committed = resolve;
    });
    let feeds = 0;
    await board.page.route(/\/v1\/feed\?/, async (route) => {
      feeds += 1;
      if (feeds > 1) {
        await changeCommitted;
        return route.continue();
      }
      await route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Service Unavailable', status: 503 }) });
    });
    const held = await holdFirstMatrixRead(board, 'refused-feed', async () => {
      await startMilestone('refused-feed', 'launch');
      committed();
    });
    await board.page.goto(`${service?.url}/?program=refused-feed`);
    await signIn(board.page, readerKey);

    await expect.poll(() => cell(board, 'launch', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');
    expect(held()).toBe(true);
    expect(feeds).toBeGreaterThan(1);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
  });
  it('follows from now, reading the views again, when the service refuses the Last-Event-ID it resumes with (a database restored or replaced), rather than retrying it for ever', async () => {
    await programWithMilestone('refused-cursor', 'launch');
    const board = await blankBoard();
    // The first connection of the feed is answered here with one frame whose id is no cursor of the
    // service's, and ends: the page reconnects with it as Last-Event-ID, which the service refuses.
    const feeds: { lastEventId: string | undefined; url: string; status?: number }[] = [];
    await board.page.route(/\/v1\/feed\?/, async (route) => {
      const request = route.request();
      const seen: { lastEventId: string | undefined; url: string; status?: number } = { lastEventId: await request.headerValue('last-event-id') ?? undefined, url: request.url() };
      feeds.push(seen);
      if (feeds.length === 1) return route.fulfill({ status: 200, contentType: 'text/event-stream', body: 'id: not-a-cursor\n\n' });
      // A feed that is let through never ends: only the refused one is read here.
      if (seen.lastEventId === undefined) return route.continue();
      const response = await route.fetch();
      seen.status = response.status();
      return route.fulfill({ response });
    });
    await board.page.goto(`${service?.url}/?program=refused-cursor`);
    await signIn(board.page, readerKey);

    await expect.poll(() => feeds.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    expect(feeds[1]).toMatchObject({ lastEventId: 'not-a-cursor', status: 400 });
    expect(feeds[2]?.lastEventId).toBeUndefined();
    expect(feeds[2]?.url).toContain('after=now');
    await expect.poll(() => board.page.locator('#live-state').textContent(), { timeout: 15_000 }).toBe('Live updates: on');
    // Followed again: a change now is drawn without a reload.
    await startMilestone('refused-cursor', 'launch');
    await expect.poll(() => cell(board, 'launch', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');
    expect(board.problems.errors.filter((error) => !error.includes('status of 400'))).toEqual([]);
  });
  it("draws a consortium's standing from every page of its programs, as any list (the page told a page size of one)", async () => {
    const board = await blankBoard();
    await pageTold(board, /\/\?consortium=skt$/, 'ml-page-size', '1');
    const reads: string[] = [];
    board.page.on('request', (request) => {
      if (request.url().includes('/v1/consortiums/skt/status')) reads.push(request.url());
    });
    await board.page.goto(`${service?.url}/?consortium=skt`);
    await signIn(board.page, readerKey);

    // SKT is in both programs of the example: two pages of one program each, drawn as one standing.
    await expect.poll(() => board.page.locator('#standing-body article').count()).toBe(2);
    expect(reads).toHaveLength(2);
    expect(reads[1]).toContain('after=');
    expect(await board.page.locator('#standing-body').innerText()).toContain('Defense AX');
    noProblems(board);
  });
  it('gives up on a read that gets no answer, saying so in its part, and follows live changes after it', async () => {
    await programWithMilestone('lost-read', 'launch');
    const board = await blankBoard();
    // The page told to wait 3 s rather than two minutes.
    await pageTold(board, /\/\?program=lost-read$/, 'ml-answer-within-ms', '3000');
    // The first read of the matrix is never answered, as a request lost on the way would not be.
    await holdFirstMatrixRead(board, 'lost-read', () => new Promise(() => {}));
    await board.page.goto(`${service?.url}/?program=lost-read`);
    await signIn(board.page, readerKey);

    await expect.poll(() => board.page.locator('#matrix-body').innerText(), { timeout: 15_000 }).toContain('the service did not answer within 3 s');
    // The live refresh queued behind that read runs once it has given up.
    await startMilestone('lost-read', 'launch');
    await expect.poll(() => cell(board, 'launch', '').getAttribute('data-status'), { timeout: 15_000 }).toBe('in_progress');
  });
  it("signs out, saying why, when a key revoked meanwhile is refused for a cell's whole evidence", async () => {
    await programWithMilestone('revoked-reader', 'outreach', 21);
    const reader = await newReaderKey('revoked while reading evidence');
    const board = await open('/?program=revoked-reader');
    await signIn(board.page, reader.key);
    await cell(board, 'outreach', '').click();
    await board.page.getByRole('button', { name: 'Show all 21' }).waitFor();

    await api('DELETE', `/v1/api-keys/${reader.id}`);
    await board.page.getByRole('button', { name: 'Show all 21' }).click();

    await signedOutAsRevoked(board);
  });
  it('signs out, saying why, when the live feed finds its key revoked (the service ends a revoked key\'s feed within 30 s)', async () => {
    const reader = await newReaderKey('revoked while following');
    const board = await open('/?program=defense-ax');
    await signIn(board.page, reader.key);
    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');

    await api('DELETE', `/v1/api-keys/${reader.id}`);

    // Nothing else reads meanwhile: the feed ends, its reconnect is refused, and that alone signs out.
    await signedOutAsRevoked(board, 45_000);
  });
  it('opens no live feed in a tab opened in the background, and follows once it is shown', async () => {
    if (service === undefined) throw new Error('no service');
    const board = await blankBoard();
    // A tab opened with a modified click starts hidden: the page runs, and no visibilitychange comes until it is shown.
    await board.page.addInitScript({ content: "Object.defineProperty(document, 'hidden', { configurable: true, get: () => true })" });
    await board.page.goto(`${service.url}/?program=defense-ax`);
    await signIn(board.page, readerKey);
    await cell(board, 'lightweight-pilot', 'skt').waitFor();

    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await board.page.locator('#live-state').textContent()).toBe('Live updates: off');
    await board.page.evaluate("Object.defineProperty(document, 'hidden', { configurable: true, get: () => false }); document.dispatchEvent(new Event('visibilitychange'))");

    await expect.poll(() => board.page.locator('#live-state').textContent()).toBe('Live updates: on');
    noProblems(board);
  });
});
