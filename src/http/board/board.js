// The status board: signs in, keeps the view in the URL, and draws programs, a program's matrix,
// a consortium's standing and the timeline from the /v1 API. Read-only.
import { ApiError, forgetKey, getAll, getJson, getJsonShared, getPaged, isRefusedKey, messageOf, NOW_PINNED, PAGE_SIZE, query, storedKey, storeKey } from './api.js';
import { downloadCsv } from './download.js';
import { byId, h, isolatedText, replaceChildren, userText } from './elements.js';
import { evidencePath, forgetEvidence, openEvidence, shownEvidence, whenKeyRefused } from './evidence.js';
import { followChanges } from './live.js';
import { matrixTable, programCard } from './matrix.js';
import { cancelRetry, isPassing, resetRetry, retryLater } from './retry.js';
import { standingView } from './standing.js';
import { timelineView } from './timeline.js';
import { cutoffs, pushViewState, readViewState } from './url-state.js';

/**
 * Events on one page of the timeline: the reader pages on with its buttons. With up to 2,000 at once
 * (two pages of the service's largest), a busy program's chart was 48,000 px tall and showed its
 * first events alone (found by the probe of the board at scale).
 */
const TIMELINE_PAGE_SIZE = Math.min(100, Number(PAGE_SIZE));
/**
 * After a change of the program shown, the board reads it again within this long, once for every
 * change that came meanwhile: a busy program's writers do not make it read more often.
 */
const LIVE_REFRESH_MS = 1000;
/**
 * The most program cards drawn, each with its counts (a read of its matrix): the others are chosen
 * with the Program list. With a card for every program, a registry of 1,000 took 1,000 reads a draw,
 * past a key's rate limit (found by the probe of the board at scale).
 */
const MOST_CARDS = 24;
/** How long a view waits for its feed to start before it is read anyway (the service slow to answer). */
const FEED_OPEN_WAIT_MS = 2000;

let programs = [];
let consortiums = new Map();
/** Bumped on each render, so that a slow answer for an older view is dropped. */
let generation = 0;
let live;
/** The render, live refresh or retry drawing now, which a live refresh or a retry waits for. */
let drawing = Promise.resolve();
/** Bumped by each render and live refresh: a refresh queued behind a later one reads nothing (a retry does not count). */
let readTicket = 0;
/** Whether the lists of the view shown (programs, consortiums) could not be read: what `programs` holds is another view's. */
let listsFailed = false;
/** The view the download buttons' lines speak of, as one string. */
let downloadsView = '';

/*
 * The API paths of a view's parts, in one place for the part drawn and the file saved from it, so
 * that the two never ask for different things.
 */
/** The shown program's matrix is read with its cells' evidence expanded. */
const SHOWN_MATRIX = { expand: 'evidence' };
/** A program's matrix at the view's cut-offs. @param {any} state @param {string} programId @param {Record<string, string | undefined>} [more] */
const matrixPath = (state, programId, more = {}) => `/v1/programs/${encodeURIComponent(programId)}/milestones${query({ ...cutoffs(state), ...more })}`;
/** A consortium's standing at the view's cut-offs. @param {any} state @param {string} consortiumId @param {Record<string, string | undefined>} [more] */
const standingPath = (state, consortiumId, more = {}) => `/v1/consortiums/${encodeURIComponent(consortiumId)}/status${query({ ...cutoffs(state), ...more })}`;
/** The timeline of the view's program and consortium, its range and cut-offs. @param {any} state @param {Record<string, string | undefined>} [more] */
const timelinePath = (state, more = {}) =>
  `/v1/timeline${query({ programId: state.program, consortiumId: state.consortium, from: state.from, to: state.to, ...cutoffs(state), ...more })}`;

/** @param {import('./url-state.js').ViewState} change */
function hrefWith(change) {
  const search = new URLSearchParams();
  const next = { ...readViewState(), ...change };
  for (const [name, value] of Object.entries(next)) if (value) search.set(name, value);
  const text = search.toString();
  return `${location.pathname}${text === '' ? '' : `?${text}`}`;
}

/** @param {import('./url-state.js').ViewState} change */
function navigate(change) {
  const before = readViewState().program;
  pushViewState({ ...readViewState(), ...change });
  resetRetry();
  matrixWanted = change.program !== undefined && change.program !== before;
  void render();
}

/**
 * A program just chosen (a card, the Program list, a link in a standing): its matrix is scrolled to
 * once drawn, since it comes after the cards (found by the probe at scale: 44,820 px down, under
 * 1,000 cards). Only by the render the choice started (scrollFor, its generation), never by a
 * later one, a live change or a retry.
 */
let matrixWanted = false;
/** @type {number | undefined} */
let scrollFor;

// Links inside the board change the view without a reload; a modified click still opens a new tab.
document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[href^="/?"], a[href="/"]') : null;
  if (link === null || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  const before = readViewState().program;
  history.pushState(null, '', link.getAttribute('href'));
  const after = readViewState().program;
  matrixWanted = after !== undefined && after !== before;
  void render();
});
window.addEventListener('popstate', () => void render());

function showSignIn(message = '') {
  // A view still being drawn is drawn for no one, nor is a cell's evidence read again.
  generation++;
  stopLive();
  forgetEvidence();
  byId('board').hidden = true;
  byId('session').hidden = true;
  byId('sign-in').hidden = false;
  byId('sign-in-error').textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  const input = byId('api-key');
  const key = input.value.trim();
  byId('sign-in-error').textContent = '';
  try {
    await getJson('/v1/programs?limit=1', key);
  } catch (error) {
    byId('sign-in-error').textContent =
      isRefusedKey(error) ? 'That API key was not accepted. Check it and try again.' : `Could not sign in: ${messageOf(error)}`;
    return;
  }
  input.value = '';
  storeKey(key);
  const drawn = start();
  // The form that held focus is hidden now: focus goes to the board, not to the page's body, so
  // that a screen reader or the keyboard carries on from there.
  byId('main').focus();
  await drawn;
}

function signOut() {
  forgetKey();
  programs = [];
  consortiums = new Map();
  showSignIn();
  byId('api-key').focus();
}


/** The key is no longer accepted (revoked): the sign-in form, rather than parts of the board that stop loading. */
function signInAgain() {
  forgetKey();
  showSignIn('Your API key is no longer accepted: sign in again.');
}


/**
 * What the URL names that is not registered at the cut-off (a link taken at another one, a typo):
 * said so where it would be shown, and not asked of the API.
 * @param {import('./url-state.js').ViewState} state
 */
const unregistered = (state) =>
  state.program !== undefined && !programs.some((p) => p.programId === state.program)
    ? `program '${state.program}'`
    : state.consortium !== undefined && !consortiums.has(state.consortium)
      ? `consortium '${state.consortium}'`
      : undefined;
/** @param {string} what */
const notRegistered = (what) => h('p', { class: 'muted' }, `No ${what} is registered at this cut-off.`);

async function start() {
  byId('sign-in').hidden = true;
  byId('board').hidden = false;
  byId('session').hidden = false;
  await render();
}

/**
 * Draws the whole view the URL describes; `keepEvidence`: the evidence open stays open (the tab
 * shown again), as after a live change.
 */
function render(options) {
  readTicket++;
  const done = drawView(options);
  drawing = done.catch(() => {});
  return done;
}

/** The parts of the board: the element each is drawn into, its section (shown once drawn), and how it is drawn. */
const PANELS = [
  { body: 'program-list', section: undefined, draw: (state, mine) => renderPrograms(state, mine) },
  { body: 'matrix-body', section: 'matrix', draw: (state, mine, keepEvidence) => renderMatrix(state, mine, keepEvidence) },
  { body: 'standing-body', section: 'standing', draw: (state, mine) => renderStanding(state, mine) },
  { body: 'timeline-body', section: undefined, draw: (state, mine) => renderTimeline(state, mine) },
];

/**
 * What a change of the program shown moves: its own card (not every card), its matrix, the standing
 * and the timeline; `seen`, the changes that came (undefined: not known, as after a reconnect from now).
 * @param {unknown[] | undefined} seen
 */
const livePanels = (seen) =>
  PANELS.map((panel) =>
    panel.body === 'program-list'
      ? { ...panel, draw: (state, mine) => renderProgramCard(state, mine) }
      : panel.body === 'matrix-body'
        ? { ...panel, draw: (state, mine) => renderMatrix(state, mine, true, seen) }
        : panel,
  );

/**
 * Whether a change may move a cell: a change of another program does not (the consortium's feed
 * brings those), nor a status change of another cell, nor an event that names another milestone;
 * anything else (a definition, a retraction, an event naming none) may.
 * @param {{ programId: string, milestone: string, consortiumId: string }} cell @param {any} change
 */
const mayMove = (cell, change) => {
  if (change === null || typeof change !== 'object') return true;
  const programId = 'stream' in change ? change.data?.programId : change.programId;
  if (typeof programId === 'string' && programId !== cell.programId) return false;
  // An event's envelope (its topic is its type), or a status change's data.
  if ('stream' in change) return typeof change.data?.milestone !== 'string' || change.data.milestone === cell.milestone;
  return typeof change.milestone !== 'string' || (change.milestone === cell.milestone && (change.consortiumId ?? '') === cell.consortiumId);
};

async function drawView({ keepEvidence = false } = {}) {
  if (storedKey() === null) return showSignIn();
  const mine = ++generation;
  scrollFor = matrixWanted ? mine : undefined;
  matrixWanted = false;
  const state = readViewState();
  // A new view closes the evidence now, so that no render still under way opens it again.
  if (!keepEvidence) {
    forgetEvidence();
  }
  syncControls(state);
  // A file saved, or refused, was of the view before, if this is another (not a retry, not the tab shown again).
  if (JSON.stringify(state) !== downloadsView) {
    downloadsView = JSON.stringify(state);
    for (const said of document.querySelectorAll('.download [role="status"]')) said.textContent = '';
  }
  // What the parts show until they are drawn again was read for the view before: said, and marked.
  setPanelsBusy(true);
  byId('resolved').textContent += ' Loading…';
  byId('board-error').textContent = '';
  cancelRetry();
  try {
    const [programList, consortiumList] = await Promise.all([getAll(`/v1/programs${query(cutoffs(state))}`, 'programs'), getAll(`/v1/consortiums${query(cutoffs(state))}`, 'consortiums')]);
    if (mine !== generation) return;
    listsFailed = false;
    programs = programList;
    consortiums = new Map(consortiumList.map((c) => [c.consortiumId, c]));
    fillFilters(state);
    // The feed starts before the views are read: a change committed between the two would be in
    // neither the views nor a feed started after them (it starts from now), and stay unseen.
    await restartLive(state);
    if (mine !== generation) return;
    const failed = await drawPanels(PANELS, state, mine, keepEvidence);
    if (mine === generation) readAgainLater(mine, failed);
  } catch (error) {
    if (isRefusedKey(error)) {
      // A view superseded meanwhile may have been drawn with a key since replaced.
      if (mine !== generation) return;
      return signInAgain();
    }
    // A failure of a view drawn since superseded says nothing of the one shown. Nothing of this view
    // could be read: what the panels show was read for another view (another cut-off, before the
    // service went away), and would pass for this one under its controls; it goes.
    if (mine === generation) {
      listsFailed = true;
      byId('evidence').hidden = true;
      byId('matrix-heading').textContent = 'Milestones';
      byId('standing-heading').textContent = 'Standing';
      for (const panel of PANELS) replaceChildren(byId(panel.body), note(panel.body, 'muted', 'Not shown: the board could not be read for this view.'));
      const again = isPassing(error)
        ? retryLater(() => {
            if (mine === generation && storedKey() !== null && !document.hidden) void render({ keepEvidence: true });
          })
        : undefined;
      byId('board-error').textContent = `Could not load the board: ${messageOf(error)}.${again === undefined ? '' : ` Trying again in ${again / 1000} s.`}`;
    }
  }
  if (mine === generation) {
    setPanelsBusy(false);
    // The line alone: the controls may hold a date the user is typing meanwhile.
    byId('resolved').textContent = resolvedText(state);
    scrollFor = undefined;
    void restartLive(state);
  }
}

/**
 * Marks the parts (not the controls, nor the line under them, whose "Loading…" a busy region would
 * keep from being announced) as being read again.
 * @param {boolean} busy
 */
function setPanelsBusy(busy) {
  for (const id of ['programs', 'matrix', 'standing', 'timeline']) {
    if (busy) byId(id).setAttribute('aria-busy', 'true');
    else byId(id).removeAttribute('aria-busy');
  }
}

/**
 * After the panels of view `mine` were drawn: those in `failed` are read again later (retry.js),
 * never for a view since replaced (a control moved, a sign-out) nor while the tab is hidden (shown
 * again, it draws anyway); none failed, the next retry waits the first wait again.
 * @param {number} mine @param {typeof PANELS} failed
 */
function readAgainLater(mine, failed) {
  if (failed.length === 0) return resetRetry();
  retryLater(() => {
    const done = drawing.then(async () => {
      if (mine !== generation || storedKey() === null || document.hidden) return;
      const still = await drawPanels(failed, readViewState(), mine, true);
      if (mine === generation) readAgainLater(mine, still);
    });
    drawing = done.catch((error) => {
      // A key refused meanwhile: the full render asks for it again, and signs out.
      if (isRefusedKey(error) && mine === generation && storedKey() !== null) void render();
    });
  });
}

/** What inPanel gives for a panel drawn with a part that may be read again (a program card). */
const PARTLY_DRAWN = Symbol('partly drawn');

/**
 * Draws `panels` of the view at `state`; returns those that could not be drawn whole and may be
 * read again with success (isPassing).
 * @param {typeof PANELS} panels @param {any} state @param {number} mine @param {boolean} keepEvidence
 */
async function drawPanels(panels, state, mine, keepEvidence) {
  const outcomes = await Promise.all(panels.map((panel) => inPanel(panel.body, panel.section, mine, () => panel.draw(state, mine, keepEvidence))));
  return panels.filter((_, i) => outcomes[i] === PARTLY_DRAWN || (outcomes[i] !== undefined && isPassing(outcomes[i])));
}

/**
 * A line of text in a panel's element: a paragraph, inside an item in the program list (whose
 * children are items; an alert role on the item itself would take its place as one).
 * @param {string} bodyId @param {string} className @param {string} text
 */
const note = (bodyId, className, text) => {
  const line = h('p', { class: className, ...(className === 'error' && { role: 'alert' }) }, text);
  return bodyId === 'program-list' ? h('li', {}, line) : line;
};

/**
 * Draws one panel; if that fails (but for a key no longer accepted, which signs out), the panel says
 * so in place of what it showed, so that nothing drawn for another cut-off stays under this one.
 * @param {string} bodyId @param {string | undefined} sectionId @param {number} mine @param {() => Promise<boolean | void>} draw  true: drawn, but with a part to read again
 * @returns {Promise<unknown>} why the panel could not be drawn whole (PARTLY_DRAWN, or the error); undefined once it is
 */
async function inPanel(bodyId, sectionId, mine, draw) {
  try {
    return (await draw()) === true ? PARTLY_DRAWN : undefined;
  } catch (error) {
    if (isRefusedKey(error) || mine !== generation) throw error;
    if (sectionId !== undefined) byId(sectionId).hidden = false;
    if (sectionId === 'matrix') byId('evidence').hidden = true;
    replaceChildren(byId(bodyId), note(bodyId, 'error', `Could not load this part of the board: ${messageOf(error)}`));
    return error;
  }
}

function syncControls(state) {
  byId('as-of').value = asDay(state.asOf);
  byId('timeline-from').value = asMonth(state.from, 'first');
  byId('timeline-to').value = asMonth(state.to, 'last');
  const knownAtEnd = state.knownAt === undefined ? undefined : lastInstantOf(state.knownAt);
  byId('known-at').value = knownAtEnd === undefined ? '' : toLocalInput(knownAtEnd);
  byId('resolved').textContent = resolvedText(state);
}

/** The line under the controls: what the view is taken at. */
function resolvedText(state) {
  const parts = [state.asOf && `as of ${state.asOf}${/T/i.test(state.asOf) ? '' : ' (days in UTC)'}`, state.knownAt && knownAtText(state.knownAt)].filter(Boolean);
  return parts.length === 0 ? 'Showing now: everything recorded so far.' : `Showing ${parts.join(', ')}.`;
}

/**
 * A knownAt as asked, and the moment it reaches to in UTC and in the reader's own time zone with
 * its offset: the control shows local time, and 01:30 on the night the clocks go back happens twice
 * (the offset says which), while 02:30 on the night they go forward never does (the control moves
 * it on). Until 2026-12-06 the line gave the UTC instant alone, without saying it was UTC, and the
 * As-of control's days were not said to be UTC days (found by the probe of dates).
 * @param {string} knownAt
 */
function knownAtText(knownAt) {
  const last = lastInstantOf(knownAt);
  if (last === undefined) return `as known at ${knownAt}`;
  const parts = Object.fromEntries(LOCAL_MOMENT.formatToParts(new Date(last)).map((part) => [part.type, part.value]));
  const here = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
  return `as known at ${knownAt} (to ${last.replace('T', ' ').replace('Z', ' UTC')}; ${here} in your time zone)`;
}

/** The reader's own time zone, its offset named (GMT-5), in 24-hour digits whatever the locale. */
const LOCAL_MOMENT = new Intl.DateTimeFormat('en-US', {
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'shortOffset',
});

/**
 * The end (exclusive, UTC) of a date as the service reads a cut-off (SPEC §2.1): a calendar form
 * covers its whole period (2026, 2026-H1, 2026-Q2, 2026-06, 2026-06-30), an instant its millisecond;
 * undefined for what the service would refuse (a year outside 1000–9998, a month 13).
 * @param {string} text
 * @returns {Date | undefined}
 */
function periodEnd(text) {
  const period = /^(\d{4})(?:-(?:H([12])|Q([1-4])|(\d{2})(?:-(\d{2}))?))?$/.exec(text);
  if (period === null) {
    const instant = Date.parse(text);
    // The browser reads 2026-02-30T10:00Z as 2 March, as it does a day alone (below): a day that does not exist is refused here.
    const day = /^(\d{4})-(\d{2})-(\d{2})T/i.exec(text);
    return day !== null && isDay(Number(day[1]), Number(day[2]), Number(day[3])) && !Number.isNaN(instant) ? new Date(instant + 1) : undefined;
  }
  const [, yearText, half, quarter, monthText, dayText] = period;
  const year = Number(yearText);
  const month = monthText === undefined ? undefined : Number(monthText);
  if (year < 1000 || year > 9998 || (month !== undefined && (month < 1 || month > 12))) return undefined;
  // Until 2026-12-06 2026-02-30 rolled over into 2026-03-02, which the controls showed for a date the service refuses (probe of the board's text).
  if (month !== undefined && dayText !== undefined && !isDay(year, month, Number(dayText))) return undefined;
  // Months counted from 0; a month past the period's end, and day 1 or the day after the one named.
  const endMonth = half !== undefined ? Number(half) * 6 : quarter !== undefined ? Number(quarter) * 3 : month ?? 12;
  const end = new Date(0);
  if (dayText === undefined) end.setUTCFullYear(year, endMonth, 1);
  else end.setUTCFullYear(year, endMonth - 1, Number(dayText) + 1);
  return end;
}

/**
 * Whether a calendar day exists (2024-02-29 does, 2026-02-30 does not). @param {number} year @param {number} month  1-12 @param {number} day
 */
function isDay(year, month, day) {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return month >= 1 && month <= 12 && day >= 1 && day <= days;
}

/**
 * An asOf as the date control can show it: a day as it is, a calendar period (2026, 2026-H1,
 * 2026-Q2, 2026-06) as its last day, which means the same ("as of June" is as of the end of June);
 * an instant, which a day does not name, as nothing (the line under the controls says it). Until
 * 2026-12-05 a period left the control empty beside "Empty means now" (found by the probe at scale).
 * @param {string | undefined} asOf
 */
function asDay(asOf) {
  if (asOf === undefined || /T/.test(asOf)) return '';
  const end = periodEnd(asOf);
  return end === undefined ? '' : new Date(end.getTime() - 86_400_000).toISOString().slice(0, 10);
}

/**
 * A range's end as the month control can show it: a month as it is, a year, half or quarter
 * (`2025-Q2`, from a link) as its first or last month, which means the same; a day or an instant,
 * which no month names, as nothing. Until 2026-12-06 only a month showed: a link's `from=2025-Q2`
 * left the control empty beside a timeline it filtered, and kept it when "To" was changed (found by
 * the probe of the board's paging).
 * @param {string | undefined} text @param {'first' | 'last'} which
 */
function asMonth(text, which) {
  const period = /^(\d{4})(?:-(?:H([12])|Q([1-4])|(\d{2})))?$/.exec(text ?? '');
  if (period === null) return '';
  const [, year, half, quarter, month] = period;
  if (month !== undefined) return `${year}-${month}`;
  // The period's months, first to last, counted from 1.
  const [from, to] = half !== undefined ? [Number(half) * 6 - 5, Number(half) * 6] : quarter !== undefined ? [Number(quarter) * 3 - 2, Number(quarter) * 3] : [1, 12];
  return `${year}-${String(which === 'first' ? from : to).padStart(2, '0')}`;
}

/**
 * The last instant a knownAt covers, as the service reads it: a calendar period's end (`2026-12` is
 * known at the end of December; until 2026-12-05 the control showed its start), an instant itself;
 * undefined for one the service refuses (`2026-13`, `2026-02-30`), which the control leaves empty.
 * @param {string} knownAt
 * @returns {string | undefined}
 */
function lastInstantOf(knownAt) {
  const end = periodEnd(knownAt);
  return end === undefined ? undefined : new Date(end.getTime() - 1).toISOString();
}

/**
 * A datetime-local value to the second: the browser leaves out seconds that are 0 (`08:14` is
 * `08:14:00`: the control's step is a second; read as the minute, a second :00 chosen there meant
 * the end of the minute; found by the review of the control).
 * @param {string} value
 */
const toSecond = (value) => (/T\d\d:\d\d$/.test(value) ? `${value}:00` : value.slice(0, 19));

/**
 * A datetime-local value as the last instant of the second it names: "known at 08:14:39" is what
 * was recorded by the end of that second, as a period names its end (SPEC §2.1).
 * @param {string} value
 */
function endOfSecond(value) {
  return new Date(new Date(toSecond(value)).getTime() + 999).toISOString();
}

/** An ISO instant as the value of a datetime-local input, in the browser's time zone. @param {string} iso */
function toLocalInput(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  // To the second (the control's step): events recorded within one minute are told apart.
  return local.toISOString().slice(0, 19);
}

function fillFilters(state) {
  const options = (items, idField, allLabel, selected) => [
    h('option', { value: '' }, allLabel),
    ...items.map((item) => h('option', { value: item[idField], selected: item[idField] === selected }, isolatedText(item.name))),
  ];
  replaceChildren(byId('program-filter'), ...options(programs, 'programId', 'All programs', state.program));
  replaceChildren(byId('consortium-filter'), ...options([...consortiums.values()], 'consortiumId', 'All consortiums', state.consortium));
  byId('program-filter').value = state.program ?? '';
  byId('consortium-filter').value = state.consortium ?? '';
}

/**
 * A program's counts for its card: its matrix at the view's cut-offs, or why it could not be read (a
 * 404: not registered yet). The shown program's card reads it as its matrix does, so that the two
 * share one read in a draw (`mine`): until 2026-12-06 each draw read that matrix twice.
 * @param {string} programId @param {any} state @param {number} mine
 */
const cardView = (programId, state, mine) =>
  // A program listed at the cut-off exists then: only a 404 means it is not registered yet; any other failure is said as such.
  (programId === state.program ? getJsonShared(matrixPath(state, programId, SHOWN_MATRIX), mine) : getJson(matrixPath(state, programId))).catch((error) => {
    if (isRefusedKey(error)) throw error;
    return error instanceof ApiError && error.status === 404 ? undefined : { error: messageOf(error), passing: isPassing(error) };
  });

const isPassingFailure = (view) => view !== undefined && 'passing' in view && view.passing === true;

/** The programs with a card: the first MOST_CARDS in the list's order, and the one shown wherever it is. */
const carded = (state) => {
  const first = programs.slice(0, MOST_CARDS);
  const shown = programs.find((p) => p.programId === state.program);
  return shown === undefined || first.includes(shown) ? first : [...first, shown];
};

async function renderPrograms(state, mine) {
  const cards = carded(state);
  const views = await Promise.all(cards.map((p) => cardView(p.programId, state, mine)));
  if (mine !== generation) return false;
  if (programs.length === 0) {
    replaceChildren(byId('program-list'), h('li', { class: 'muted' }, 'No program is registered at this cut-off.'));
    return false;
  }
  const more = programs.length - cards.length;
  replaceChildren(
    byId('program-list'),
    ...cards.map((p, i) => programCard(p, views[i], hrefWith({ program: p.programId }), p.programId === state.program)),
    ...(more > 0 ? [h('li', { class: 'muted more-programs' }, `${more} more program${more === 1 ? '' : 's'}: choose one with Program above.`)] : []),
  );
  // A card whose milestones could not be read, for a reason that may pass, has the list read again.
  return views.some(isPassingFailure);
}

/** After a change of the program shown: its card alone is read again, in place. */
async function renderProgramCard(state, mine) {
  // A card that could not be read has a retry planned, which this live re-read's own outcome
  // replaces (readAgainLater): so while one does, every card is read again here.
  if (document.querySelector('#program-list .card .error') !== null) return renderPrograms(state, mine);
  const program = programs.find((p) => p.programId === state.program);
  const card = document.querySelector(`#program-list li[data-program="${CSS.escape(state.program ?? '')}"]`);
  if (program === undefined || card === null) return false;
  const view = await cardView(program.programId, state, mine);
  if (mine !== generation || !card.isConnected) return false;
  card.replaceWith(programCard(program, view, hrefWith({ program: program.programId }), true));
  return isPassingFailure(view);
}

/** @param {unknown[] | undefined} [seen]  for a live change, the changes that came: what "Show all" needs to read again */
async function renderMatrix(state, mine, keepEvidence = false, seen = undefined) {
  const section = byId('matrix');
  const program = programs.find((p) => p.programId === state.program);
  if (program === undefined) {
    // A program named in the URL (a link from another cut-off, a typo) that is not there says so.
    section.hidden = state.program === undefined;
    forgetEvidence();
    if (state.program !== undefined) {
      byId('matrix-heading').textContent = 'Milestones';
      replaceChildren(byId('matrix-body'), notRegistered(`program '${state.program}'`));
    }
    return;
  }
  const view = await getJsonShared(matrixPath(state, program.programId, SHOWN_MATRIX), mine);
  if (mine !== generation) return;
  section.hidden = false;
  replaceChildren(byId('matrix-heading'), userText(program.name), ': milestones');
  // Redrawn for a live change, the cell whose evidence is open opens again, and focus stays where it was.
  const reopen = keepEvidence && shownEvidence()?.programId === program.programId ? shownEvidence() : undefined;
  const focused = document.activeElement;
  // Focus on a cell goes back to that cell drawn anew; focus in the evidence stays there (evidence.js).
  const focusedCell = focused instanceof HTMLElement && focused.matches('#matrix button.cell') ? focused : undefined;
  // Reopened, the evidence stays shown as it was until its new entries replace it: hidden or
  // emptied meanwhile, the page would grow shorter and the reader lose their place.
  if (reopen === undefined) {
    forgetEvidence();
  }
  replaceChildren(byId('matrix-body'), h('p', { class: 'muted' }, program.sponsor === undefined ? '' : ['Sponsor: ', userText(program.sponsor), '. '], 'Open a cell to see the events behind it.'), matrixTable(view, program.name, consortiums, openEvidence));
  const milestone = reopen && view.milestones.find((m) => m.milestone === reopen.milestone);
  const cell = milestone && milestone.cells.find((c) => (c.consortiumId ?? '') === reopen.consortiumId);
  // Opened again as it was: all of it if it was, the page where it was (until 2026-12-05 a live
  // change put back the 20 latest and moved the page, found by the probe at scale).
  // A whole evidence list (up to 5,000 entries, five reads) stays as it is when no change that came
  // may move its cell: read again each second a busy program changes, it took some 480 requests a
  // minute (found by the review of the board's commits).
  const unmoved = reopen?.all === true && seen !== undefined && !seen.some((change) => mayMove(reopen, change));
  if (milestone && cell) {
    if (!unmoved) void openEvidence(milestone, cell, reopen.columnName, { all: reopen.all === true, live: true });
  } else {
    forgetEvidence();
  }
  if (focusedCell !== undefined) cellButton(focusedCell.getAttribute('data-milestone'), focusedCell.getAttribute('data-consortium'))?.focus();
  if (scrollFor === mine) {
    scrollFor = undefined;
    section.scrollIntoView({ block: 'start' });
  }
}


/** The matrix's button of a cell, as drawn now. @param {string | null} milestone @param {string | null} consortiumId */
const cellButton = (milestone, consortiumId) =>
  [...document.querySelectorAll('#matrix button.cell')].find((b) => b instanceof HTMLElement && b.getAttribute('data-milestone') === milestone && b.getAttribute('data-consortium') === consortiumId);


async function renderStanding(state, mine) {
  const section = byId('standing');
  if (state.consortium === undefined) {
    section.hidden = true;
    return;
  }
  if (!consortiums.has(state.consortium)) {
    section.hidden = false;
    byId('standing-heading').textContent = 'Standing across programs';
    replaceChildren(byId('standing-body'), notRegistered(`consortium '${state.consortium}'`));
    return;
  }
  // Its programs come a page at a time, as any list: every page, drawn as one standing.
  const { first, items } = await getPaged(standingPath(state, state.consortium), 'programs');
  const view = { ...first, programs: items };
  if (mine !== generation) return;
  section.hidden = false;
  replaceChildren(byId('standing-heading'), userText(view.consortium.name), ': standing across programs');
  replaceChildren(byId('standing-body'), standingView(view, (programId) => hrefWith({ program: programId })));
}

/**
 * Where the reader is in the timeline of a view: the pages opened, first to the one shown, each with
 * the cursor it is read from and the number its first event had when it was opened (a page can be
 * short, under a knownAt, and still be followed by another). Another view (its subject, range or
 * cut-offs) starts at the first page; a live change or a retry reads the page shown again.
 * The pages after the first are read as recorded when the first was: the first page is read with a
 * knownAt (the view's, or for a view of now one far in the future, which the service answers as of
 * now), and the service pins its next cursor, and so every later page, to the instant it answered
 * at. Read as of each moment instead, a late event recorded while the reader paged moved the pages'
 * boundaries under the trail: the numbers went stale, and going back skipped the event at each
 * boundary (found by the probe of the board's paging). The first page follows live changes; later
 * pages say the instant they show.
 * @typedef {{ cursor: string | undefined, first: number }} TimelinePage
 * @typedef {{ view: string, pages: TimelinePage[] }} TimelineTrail
 */
/** @type {TimelineTrail} */
let timelineTrail = { view: '', pages: [{ cursor: undefined, first: 1 }] };
/** The trail whose page the timeline shows. @type {TimelineTrail | undefined} */
let drawnTrail;

/** What the timeline shows depends on, as one string. @param {any} state */
const timelineViewOf = (state) => JSON.stringify([state.program, state.consortium, state.from, state.to, state.asOf, state.knownAt]);

/** The first page of a view's timeline. @param {string} view @returns {TimelineTrail} */
const firstTimelinePage = (view) => ({ view, pages: [{ cursor: undefined, first: 1 }] });

/** Empty pages read on at most, one after another, before one is shown as empty. */
const EMPTY_PAGES_READ_ON = 20;


async function renderTimeline(state, mine) {
  const missing = unregistered(state);
  if (missing !== undefined) {
    replaceChildren(byId('timeline-body'), notRegistered(missing));
    return;
  }
  const view = timelineViewOf(state);
  if (timelineTrail.view !== view) timelineTrail = firstTimelinePage(view);
  const trail = timelineTrail;
  const at = trail.pages.length - 1;
  const shown = trail.pages[at] ?? { cursor: undefined, first: 1 };
  const read = (after) => getJson(timelinePath({ ...state, knownAt: state.knownAt ?? NOW_PINNED }, { limit: String(TIMELINE_PAGE_SIZE), after }));
  let page = await read(shown.cursor);
  // Under a knownAt the service reads a page's worth of events in world order and leaves out those
  // recorded later, so a page may come back empty and be followed by more: read on (a few pages at
  // most) rather than show "No event on this page" and make the reader click through them (at a
  // knownAt early in a program's history, 16 empty pages in a row; found by the probe of the board's paging).
  for (let empty = 0; page.events.length === 0 && typeof page.nextCursor === 'string' && empty < EMPTY_PAGES_READ_ON; empty++) {
    if (mine !== generation || trail !== timelineTrail) return;
    page = await read(page.nextCursor);
  }
  if (mine !== generation || trail !== timelineTrail) return;
  // Past the first page of a view of now (or of a knownAt to come, answered as of now): the instant its pages show, to the second.
  const recordedBy = at > 0 && (state.knownAt === undefined || isFutureKnownAt(state.knownAt)) && typeof page.cutoff?.knownAt === 'string' ? `${page.cutoff.knownAt.slice(0, 19).replace('T', ' ')} UTC` : undefined;
  const next = page.nextCursor ?? undefined;
  const count = page.events.length;
  /** A button that opens the page `pages` ends at. @param {string} label @param {'first' | 'earlier' | 'later'} way @param {TimelinePage[]} pages */
  const pageButton = (label, way, pages) => {
    const button = h('button', { type: 'button', 'data-page': way }, label);
    button.addEventListener('click', () => void openTimelinePage({ view, pages }, way));
    return button;
  };
  const said =
    count > 0
      ? `Events ${shown.first}–${shown.first + count - 1}${recordedBy === undefined ? '' : ` as recorded by ${recordedBy} (the first page follows live changes)`}, in world-time order.`
      : next === undefined
        ? 'No later events.'
        : 'No event on this page at this cut-off; later ones may follow.';
  const pager =
    at === 0 && next === undefined
      ? undefined
      : h(
          'nav',
          { class: 'timeline-pager', 'aria-label': 'Timeline pages' },
          h('span', {}, said),
          at > 1 ? pageButton('First events', 'first', trail.pages.slice(0, 1)) : undefined,
          at > 0 ? pageButton('Earlier events', 'earlier', trail.pages.slice(0, -1)) : undefined,
          next !== undefined ? pageButton('Later events', 'later', [...trail.pages, { cursor: next, first: shown.first + count }]) : undefined,
        );
  drawnTrail = trail;
  replaceChildren(byId('timeline-body'), timelineView(page.events, pager, (id) => consortiums.get(id)?.name ?? id));
}

/**
 * Draws the page of the timeline `trail` ends at, and puts focus back on the button of the same way
 * (or the pager's first, if that way is gone: the first page has no earlier), as a keyboard user left
 * it. A page that cannot be read leaves the one shown, saying why under its buttons, which ask again.
 * A button of a view since replaced (its controls moved while it was drawn) does nothing.
 * @param {TimelineTrail} trail @param {'first' | 'earlier' | 'later'} way
 */
async function openTimelinePage(trail, way) {
  const mine = generation;
  const state = readViewState();
  if (trail.view !== timelineViewOf(state)) return;
  const timeline = byId('timeline');
  timelineTrail = trail;
  timeline.setAttribute('aria-busy', 'true');
  try {
    await renderTimeline(state, mine);
  } catch (error) {
    if (mine !== generation) return;
    if (isRefusedKey(error)) return signInAgain();
    // Unless another read has moved on meanwhile, the trail goes back to the page shown (a live
    // change may have drawn this very page: then it stays).
    // A click since (Later twice) has moved on: its page, drawn or coming, is the one to keep.
    const wanted = timelineTrail === trail;
    if (wanted) timelineTrail = drawnTrail?.view === trail.view ? drawnTrail : firstTimelinePage(trail.view);
    const pager = timeline.querySelector('.timeline-pager');
    pager?.querySelector('.error')?.remove();
    if (wanted && drawnTrail !== trail) pager?.append(h('p', { class: 'error', role: 'alert' }, `Could not load that page: ${messageOf(error)}`));
    return;
  } finally {
    if (mine === generation) timeline.removeAttribute('aria-busy');
  }
  if (mine !== generation) return;
  const pager = timeline.querySelector('.timeline-pager');
  const button = pager?.querySelector(`button[data-page="${way}"]`) ?? pager?.querySelector('button');
  button?.focus();
}

function stopLive() {
  live?.abort();
  live = undefined;
  byId('live-state').textContent = 'Live updates: off';
}

/**
 * A knownAt whose period ends after now (2100, this month, this quarter): the service answers it as
 * of now (what is settled), and its answer moves with what is recorded, as the current view's does
 * (found by the probe at scale).
 * @param {string | undefined} knownAt
 */
const isFutureKnownAt = (knownAt) => {
  const end = knownAt === undefined ? undefined : periodEnd(knownAt);
  return end !== undefined && end.getTime() > Date.now();
};

/**
 * What the live feeds follow for a view: the program shown (its events and status changes, which
 * its card, matrix and timeline and its rows of the standing show) and the consortium shown (its
 * events and its cells' status changes in every program, which its standing shows: until 2026-12-06
 * only the program was followed, and the standing's rows of the consortium's other programs stayed
 * as first read while the board said "Live updates: on"; found by the probe of the board's paging).
 * Not the program-wide milestones of the consortium's other programs: those rows are as read when
 * the view was drawn. Nothing for a view pinned to a past knowledge (knownAt), a program or
 * consortium not registered at the cut-off, or a hidden tab.
 * @returns {{ programId?: string, consortiumId?: string }[]}
 */
function liveSubjects(state) {
  if (storedKey() === null || document.hidden || (state.knownAt !== undefined && !isFutureKnownAt(state.knownAt))) return [];
  return [
    state.program !== undefined && unregistered({ program: state.program }) === undefined ? { programId: state.program } : undefined,
    state.consortium !== undefined && unregistered({ consortium: state.consortium }) === undefined ? { consortiumId: state.consortium } : undefined,
  ].filter((subject) => subject !== undefined);
}

/** What the live feeds of a view follow, as one string: a feed is kept while it stays the same. */
const liveIdentity = (state) => JSON.stringify([liveSubjects(state), state.knownAt]);

/**
 * Follows the changes of the program and the consortium shown (liveSubjects): shown again, a tab
 * draws and follows again.
 *
 * The views are read once the feeds have started (the promise returned), so that a change committed
 * while they are read comes on a feed. A feed that has not started within FEED_OPEN_WAIT_MS, or
 * whose first connection failed (a 429, an outage), lets them be read anyway; then, and whenever a
 * connection starts afresh from now (not resuming from a change it saw), what came between is not
 * on the feed, so the views are read again once it has started.
 * @returns {Promise<void>}
 */
function restartLive(state) {
  const key = storedKey();
  const subjects = liveSubjects(state);
  const identity = liveIdentity(state);
  if (subjects.length > 0 && live?.identity === identity) return live.started;
  stopLive();
  if (subjects.length === 0 || key === null) return Promise.resolve();
  const controller = new AbortController();
  let released = false;
  /** Lets the views be read: every feed has answered, failed or gone, or FEED_OPEN_WAIT_MS has passed. */
  let release;
  const started = new Promise((resolve) => {
    release = () => {
      released = true;
      clearTimeout(waited);
      resolve(undefined);
    };
  });
  const waited = setTimeout(release, FEED_OPEN_WAIT_MS);
  let timer;
  controller.signal.addEventListener('abort', () => {
    clearTimeout(timer);
    release();
  });
  live = { identity, started, abort: () => controller.abort() };
  // At most one read a LIVE_REFRESH_MS, for every change that came meanwhile (a timer reset at each
  // change would never fire while a busy program's changes came closer together than that).
  /** @type {unknown[] | undefined} the changes since the last re-read; undefined once some may have been missed */
  let seen = [];
  const refreshSoon = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      const changes = seen;
      seen = [];
      refresh(identity, changes);
    }, LIVE_REFRESH_MS);
  };
  /** Each feed's state; the line says the least live of them. */
  const states = subjects.map(() => ({ state: 'reconnecting', answered: false, detail: undefined }));
  const WORST_FIRST = ['refused', 'off', 'full', 'reconnecting', 'live'];
  subjects.forEach((subject, index) => {
    void followChanges({
      ...subject,
      key,
      signal: controller.signal,
      onState: (s, { fromNow = false, detail } = {}) => {
        const own = states[index];
        if (own === undefined) return;
        own.state = s;
        own.detail = detail;
        own.answered = true;
        if (!released && states.every((other) => other.answered)) release();
        else if (released && s === 'live' && fromNow) {
          // What came before this connection is not on it.
          seen = undefined;
          refreshSoon();
        }
        // The key refused at a reconnect (revoked while the feed ran): signed out, as any other read would be.
        if (s === 'refused' && storedKey() === key) return signInAgain();
        const worst = WORST_FIRST.map((name) => states.find((other) => other.state === name)).find((found) => found !== undefined) ?? own;
        byId('live-state').textContent =
          worst.state === 'full'
            ? `Live updates: paused (${worst.detail ?? 'the service follows as many pages as it can'}); trying again`
            : { live: 'Live updates: on', reconnecting: 'Live updates: reconnecting…', off: 'Live updates: off', refused: 'Live updates: off' }[worst.state];
      },
      onChange: (change) => {
        seen?.push(change);
        refreshSoon();
      },
    });
  });
  return started;
}

/**
 * Reads again what a change of the program or consortium followed moves, after whatever is being
 * drawn, so that no read begun before the change is drawn over one begun after it.
 * @param {string} identity  what the feeds followed (liveIdentity) @param {unknown[] | undefined} seen  the changes that came, undefined if not known
 */
function refresh(identity, seen) {
  const ticket = ++readTicket;
  const done = drawing.then(() => {
    // A render or refresh queued since reads after this change too; signed out, there is nothing to read.
    if (ticket !== readTicket || storedKey() === null) return;
    const now = readViewState();
    // Without the view's lists (their read failed), the parts would be drawn from another view's; the view's retry draws it whole.
    if (liveIdentity(now) !== identity || listsFailed) return;
    const mine = generation;
    return drawPanels(livePanels(seen), now, mine, true).then((failed) => {
      if (mine === generation) readAgainLater(mine, failed);
    }, (error) => {
      // A key refused meanwhile: the full render asks for it again, and signs out (unless signed out already).
      if (isRefusedKey(error) && mine === generation && storedKey() !== null) void render();
    });
  });
  drawing = done;
}

/** What each download button saves: its part's view at the view's cut-offs, or nothing while the part is not shown. */
const DOWNLOADS = {
  /** @param {any} state */
  matrix: (state) => (state.program ? matrixPath(state, state.program) : undefined),
  /** @param {any} state */
  standing: (state) => (state.consortium ? standingPath(state, state.consortium, { limit: PAGE_SIZE }) : undefined),
  /** @param {any} state */
  timeline: (state) => timelinePath(state, { limit: PAGE_SIZE }),
  /** The open cell's whole evidence, beyond what its list shows. @param {any} state */
  evidence: (state) => {
    const cell = shownEvidence();
    return cell === undefined ? undefined : evidencePath(state, cell, { limit: PAGE_SIZE });
  },
};

/**
 * Saves a part as a CSV file (download.js), saying beside its button that it is being read, then
 * the file's name or why it could not be (cleared when another view is drawn); a second click
 * meanwhile does nothing. The button keeps focus throughout (a disabled one would drop it to the page).
 * @param {HTMLButtonElement} button
 */
async function download(button) {
  const said = button.nextElementSibling;
  const path = DOWNLOADS[button.dataset.download ?? '']?.(readViewState());
  if (path === undefined || button.getAttribute('aria-busy') === 'true' || !(said instanceof HTMLElement)) return;
  button.setAttribute('aria-busy', 'true');
  said.textContent = 'Reading every page…';
  try {
    said.textContent = `Download started: ${await downloadCsv(path)}.`;
  } catch (error) {
    said.textContent = '';
    if (isRefusedKey(error)) return signInAgain();
    said.textContent = `Could not download: ${messageOf(error)}.`;
  } finally {
    button.removeAttribute('aria-busy');
  }
}

function wireControls() {
  for (const button of document.querySelectorAll('button[data-download]')) {
    if (button instanceof HTMLButtonElement) button.addEventListener('click', () => void download(button));
  }
  byId('sign-in-form').addEventListener('submit', (event) => void signIn(event));
  byId('sign-out').addEventListener('click', signOut);
  byId('controls').addEventListener('submit', (event) => event.preventDefault());
  byId('program-filter').addEventListener('change', (event) => navigate({ program: event.target.value || undefined }));
  byId('consortium-filter').addEventListener('change', (event) => navigate({ consortium: event.target.value || undefined }));
  // A date input commits each keystroke of its year (0002, 0020, 0202, 2026): a year the service
  // refuses (before 1000) is one still being typed, not a view to draw and keep in the history.
  const typing = (value) => value !== '' && !/^[1-9]\d{3}-/.test(value);
  byId('as-of').addEventListener('change', (event) => {
    if (!typing(event.target.value)) navigate({ asOf: event.target.value || undefined });
  });
  byId('known-at').addEventListener('change', (event) => {
    const value = event.target.value;
    if (typing(value)) return;
    // The second the control shows for the view's own knownAt (an instant to the millisecond, a
    // period's end) is that knownAt: committed as it stands, it keeps the view. Until 2026-12-06 it
    // became the second's start, which left out what was recorded within it (found by the probe of
    // the board's paging).
    const current = readViewState().knownAt;
    const currentEnd = current === undefined ? undefined : lastInstantOf(current);
    if (value !== '' && currentEnd !== undefined && toSecond(value) === toLocalInput(currentEnd)) return;
    navigate({ knownAt: value ? endOfSecond(value) : undefined });
  });
  // A hidden tab holds no feed (a key may hold only so many); shown again, it draws what is now and follows again.
  document.addEventListener('visibilitychange', () => {
    if (storedKey() === null || byId('board').hidden) return;
    if (document.hidden) {
      stopLive();
      cancelRetry();
    } else void render({ keepEvidence: true });
  });
  byId('now').addEventListener('click', () => navigate({ asOf: undefined, knownAt: undefined }));
  byId('timeline-range').addEventListener('submit', (event) => event.preventDefault());
  for (const [id, field] of [['timeline-from', 'from'], ['timeline-to', 'to']]) {
    byId(id).addEventListener('change', (event) => {
      if (!typing(event.target.value)) navigate({ [field]: event.target.value || undefined });
    });
  }
  const closeEvidence = () => {
    // Back to the cell it was opened from, for a keyboard or screen-reader user.
    const from = forgetEvidence();
    const button = from && cellButton(from.milestone, from.consortiumId);
    if (button instanceof HTMLElement) button.focus();
  };
  byId('evidence-close').addEventListener('click', closeEvidence);
  // Escape closes it too, from anywhere inside it, as a dialog-like panel is expected to.
  byId('evidence').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeEvidence();
  });
}

wireControls();
whenKeyRefused(signInAgain);
if (storedKey() === null) showSignIn();
else void start();
