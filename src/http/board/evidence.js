// A cell's evidence, in the panel under the matrix: its latest entries (the matrix carries them), the
// rest on asking, from the cell's evidence pages; opened again as it was for a live change, and read
// again after a failure that may pass.
import { getJson, getPaged, isRefusedKey, messageOf, NOW_PINNED, query, storedKey } from './api.js';
import { byId, h, replaceChildren, userText } from './elements.js';
import { evidenceList } from './matrix.js';
import { isPassing } from './retry.js';
import { titleOf } from './timeline.js';
import { cutoffs, readViewState } from './url-state.js';

/**
 * The most evidence entries one cell's list shows (the page's `ml-most-evidence`, 5,000): a page
 * stays readable, and its size bounded. A cell with more offers them all in its CSV.
 */
const MOST_EVIDENCE = Number(document.querySelector('meta[name="ml-most-evidence"]')?.getAttribute('content') ?? '5000');
/** The first wait before the evidence, failed for a reason that may pass, is read again; it doubles up to a minute. */
const EVIDENCE_RETRY_FIRST_MS = 5000;
const EVIDENCE_RETRY_MOST_MS = 60_000;
/**
 * A cell's whole list is read again for live changes at most this often; the changes meanwhile are
 * read together at its end. Read again within a second of each change (the matrix's pace), a busy
 * cell's 5,000 entries took 300 requests a minute of one viewer (found by the probe of the day's fixes).
 */
const WHOLE_REREAD_MS = 5000;

/**
 * The evidence pages of the cell shown, at the view's cut-offs. @param {any} state
 * @param {{ programId: string | undefined, milestone: string, consortiumId: string }} cell @param {Record<string, string | undefined>} [more]
 */
export const evidencePath = (state, cell, more = {}) =>
  `/v1/programs/${encodeURIComponent(cell.programId ?? '')}/milestones/${encodeURIComponent(cell.milestone)}/evidence${query({ consortiumId: cell.consortiumId, ...cutoffs(state), ...more })}`;

/** The cell whose evidence is open, so that a live refresh of the matrix opens it again. */
let openCell;

/** What to do when the key is refused while the evidence is read: the board signs out. */
let onKeyRefused = () => {};

/** @param {() => void} handler  runs when the service no longer accepts the key (a 401) for the evidence */
export const whenKeyRefused = (handler) => {
  onKeyRefused = handler;
};

/** The cell whose evidence is open, if any. */
export const shownEvidence = () => openCell;

/** Closes the evidence: hidden, and not opened again by a live refresh. Returns the cell it showed, if any. */
export function forgetEvidence() {
  const was = openCell;
  openCell = undefined;
  resetEvidenceRetry();
  clearTimeout(wholeLater);
  byId('evidence').hidden = true;
  return was;
}

/**
 * Whether the evidence a read was for may be read again by itself (a retry, a read put off): only
 * while it is still the one shown, its panel in sight, the tab in sight and the reader signed in
 * (a tab shown again draws its view anew, the evidence with it). @param {object} shown
 */
const mayReadAgain = (shown) => openCell === shown && !byId('evidence').hidden && !document.hidden && storedKey() !== null;

/** The links and buttons in an element, in document order. @param {Element} element */
const focusables = (element) => [...element.querySelectorAll('a[href], button')];

/** The most entries after the one the reader looks at that stand in for it if it goes (evidencePlace). */
const MOST_STAND_INS = 50;

/**
 * Where the reader is in a cell's evidence, to be found again once it is drawn anew. The entry held
 * still: the one focus is in if it is in sight (in the list's scroll region and in the window),
 * else the first entry in sight, else the region's first in its own sight; with its distance from
 * the region's top and, if it is in the window's sight, from the window's. Then the entries after
 * it in the region's sight, which stand in for it, in order, if it is gone from the list drawn anew
 * (retracted: until 2026-12-06 nothing held the list then, and with entries added above it the
 * reader was moved 30 entries on). In the window's sight: the region's first entry in its own
 * sight, above the window, or an entry with focus scrolled out of sight, was held instead, and the
 * window moved by as much as was added above it (found by the probe of the list under churn and
 * its review). Apart from it, where focus is: the entry it is in (by its event) and its link there,
 * or one of the evidence's own buttons. Kept by the entry's event, not its place in the list:
 * entries recorded meanwhile above it move it down (until 2026-12-06 focus went to whatever link
 * then held its place, and the page did not follow the entry; found by the probe of the board's
 * evidence). Taken just before the list is replaced, while the list shown is where the reader left
 * it: taken earlier, a reader who scrolled or moved focus away while it was read was pulled back
 * (found by the review of that change).
 * @returns {EvidencePlace}
 * @typedef {{ event: string, inRegion: number | undefined, top: number | undefined }} EvidenceAnchor
 * @typedef {{ anchors: EvidenceAnchor[], focus: boolean, focusEvent: string | undefined, inEntry: number, control: string | undefined }} EvidencePlace
 */
function evidencePlace() {
  const body = byId('evidence-body');
  const active = document.activeElement;
  const focused = active instanceof HTMLElement && body.contains(active) ? active : undefined;
  const focusedEntry = focused?.closest('li[data-event]') ?? null;
  const region = body.querySelector('.evidence-scroll')?.getBoundingClientRect();
  /** @param {Element} entry @param {number} top @param {number} bottom */
  const within = (entry, top, bottom) => {
    const box = entry.getBoundingClientRect();
    return box.bottom > top && box.top < bottom;
  };
  /** @param {Element} entry */
  const inRegion = (entry) => region === undefined || within(entry, region.top, region.bottom);
  /** @param {Element} entry */
  const inSight = (entry) => inRegion(entry) && within(entry, 0, window.innerHeight);
  const entries = [...body.querySelectorAll('li[data-event]')];
  const first = (focusedEntry !== null && inSight(focusedEntry) ? focusedEntry : undefined) ?? entries.find(inSight) ?? entries.find(inRegion);
  /** @type {EvidenceAnchor[]} */
  const anchors = [];
  for (let entry = first ?? null; entry !== null && anchors.length <= MOST_STAND_INS; entry = entry.nextElementSibling) {
    const event = entry.getAttribute('data-event');
    if (event === null || (entry !== first && !inRegion(entry))) break;
    const top = entry.getBoundingClientRect().top;
    anchors.push({
      event,
      inRegion: region === undefined ? undefined : top - region.top,
      // Only an entry in sight holds the window still: one out of sight moves nothing the reader sees.
      top: inSight(entry) ? top : undefined,
    });
  }
  return {
    anchors,
    focus: focused !== undefined,
    focusEvent: focusedEntry?.getAttribute('data-event') ?? undefined,
    inEntry: focusedEntry !== null && focused !== undefined ? focusables(focusedEntry).indexOf(focused) : -1,
    // A button of the evidence's own, by what it does: by its place, focus went from "Try again now",
    // gone once the retry read the list, to the first entry's first link (the review).
    control: focusedEntry === null ? CONTROLS.find((selector) => focused?.matches(selector)) : undefined,
  };
}

/**
 * The evidence's own controls, by what they do: its buttons, and the list's scroll region, which a
 * keyboard scrolls once focused (until the review of 2026-12-06 focus there went to the heading at
 * every live change).
 */
const CONTROLS = ['.show-all-evidence', '.evidence-retry', '.evidence-scroll'];

/**
 * Draws what the evidence shows: a list drawn for what is read again while it is shown
 * (`keepPlace`: a live change, a retry, the rest of a list) updates the list shown in place
 * (updateList); anything else replaces it. With `keepPlace`, the list and the page are then
 * scrolled so that the entry in sight stands where it stood, and focus, if it was in the list, goes to the same link of the same entry, or the
 * same button, or else the heading.
 * @param {boolean} keepPlace @param {...(Node | undefined)} children
 */
function drawEvidence(keepPlace, ...children) {
  const body = byId('evidence-body');
  const place = keepPlace ? evidencePlace() : undefined;
  const [drawnRegion, ...after] = children;
  const shownRegion = body.querySelector('.evidence-scroll');
  if (keepPlace && shownRegion !== null && drawnRegion instanceof Element && updateList(shownRegion, drawnRegion)) {
    for (const child of [...body.children]) if (child !== shownRegion) child.remove();
    shownRegion.after(...after.filter((child) => child !== undefined));
  } else replaceChildren(body, ...children);
  if (place === undefined) return;
  // The entry the reader looked at, or the first after it still listed.
  const held = place.anchors
    .map((anchor) => ({ anchor, entry: body.querySelector(`li[data-event="${CSS.escape(anchor.event)}"]`) }))
    .find(({ entry }) => entry !== null);
  const entry = held?.entry ?? null;
  const region = body.querySelector('.evidence-scroll');
  // The entry goes back to its place in the list's region, and the region, if it moved in the
  // window (a short list, which does not scroll, grown above the entry), back to the window's.
  const holdStill = () => {
    if (held === undefined || entry === null || !entry.isConnected) return;
    const { inRegion, top } = held.anchor;
    if (region !== null && inRegion !== undefined) region.scrollTop += entry.getBoundingClientRect().top - region.getBoundingClientRect().top - inRegion;
    if (top !== undefined) window.scrollBy(0, entry.getBoundingClientRect().top - top);
  };
  holdStill();
  // A long list lays out the entries near its sight only once drawn (board.css): their sizes, until
  // then estimates, can move the entry by some pixels, which the second frame after puts right;
  // unless the reader scrolled, clicked or typed meanwhile, or the panel closed (the review: a
  // reader's scroll was undone, and a closed panel, measuring nothing, scrolled the page). Not by
  // the scroll positions: the browser's own scroll anchoring moves them as the sizes come.
  // A correction still pending from a draw before is moot: this one's place is the reader's now.
  pendingHold?.abort();
  pendingHold = undefined;
  if (region !== null && region.querySelector('.evidence-list.long') !== null) {
    const pending = new AbortController();
    pendingHold = pending;
    /** @param {Event} input */
    const acted = (input) => {
      if (!(input instanceof KeyboardEvent) || MOVING_KEYS.has(input.key)) pending.abort();
    };
    for (const type of READER_INPUTS) window.addEventListener(type, acted, { capture: true, passive: true, signal: pending.signal });
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (pending.signal.aborted) return;
        pending.abort();
        if (!byId('evidence').hidden && entry !== null && entry.getClientRects().length !== 0) holdStill();
      }),
    );
  }
  // Focus goes to the same link of the entry it was in, still listed, not of one standing in for it.
  const focusEntry = place.focusEvent === undefined ? null : body.querySelector(`li[data-event="${CSS.escape(place.focusEvent)}"]`);
  focusAgain(body, focusEntry, place);
}

/** The second-frame correction of the last draw, until it runs or the reader moves (drawEvidence). */
let pendingHold;

/** What a reader does to move about a page; of the keys, those that scroll or move focus (not Shift, not Ctrl+C). */
const READER_INPUTS = ['wheel', 'touchstart', 'keydown', 'pointerdown'];
const MOVING_KEYS = new Set(['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'PageUp', 'PageDown', 'Home', 'End', ' ', 'Tab']);

/**
 * Focus back where it was in the evidence: the same link of the same entry, or the same control, or
 * else the heading. @param {HTMLElement} body @param {Element | null} entry @param {EvidencePlace} place
 */
function focusAgain(body, entry, place) {
  if (!place.focus) return;
  const again = entry !== null && place.inEntry >= 0 ? focusables(entry)[place.inEntry] : place.control === undefined ? undefined : body.querySelector(place.control);
  (again instanceof HTMLElement ? again : byId('evidence-heading')).focus({ preventScroll: true });
}

/**
 * Brings the list shown to a list drawn anew, in place: an entry of the same event stays as it is
 * (an event never changes; its retraction takes it off the list), the new ones go in where they
 * belong, and those no longer listed go. Drawn anew whole, a live change of a list of 5,000 took its
 * entries (some 70,000 nodes) out of the page and put as many in, some 240 ms of a 380 ms pause
 * (`npm run bench:board` and a profile). Changes nothing and returns false where either is not a
 * list of entries, or the one drawn is mostly new (then drawn whole).
 * @param {Element} shown  the list's region on the page @param {Element} drawn  the one drawn anew
 * @returns {boolean}
 */
function updateList(shown, drawn) {
  const list = shown.querySelector('.evidence-list');
  const fresh = drawn.querySelector('.evidence-list');
  if (!drawn.matches('.evidence-scroll') || list === null || fresh === null) return false;
  const kept = new Map([...list.children].map((entry) => [entry.getAttribute('data-event'), entry]));
  // Two entries of one event (none should be): drawn whole, as before.
  if (kept.size !== list.children.length) return false;
  // Mostly new (the rest of a list read after its 20 latest): drawn whole, in one go, which costs
  // less than putting thousands in one by one ("Show all" took 358 ms so, 142 drawn whole, in
  // `npm run bench:board` at 17:14 and 17:22 on 2026-12-06).
  const entries = [...fresh.children];
  if (entries.filter((entry) => kept.has(entry.getAttribute('data-event'))).length * 2 < entries.length) return false;
  const wanted = new Set(entries.map((entry) => entry.getAttribute('data-event')));
  let next = list.firstElementChild;
  for (const entry of entries) {
    // An entry no longer listed goes where it stands: left there, every entry after it was moved
    // past it, out of the page and back, a reader's selection in them lost (the review).
    while (next !== null && !wanted.has(next.getAttribute('data-event'))) {
      const gone = next;
      next = next.nextElementSibling;
      gone.remove();
    }
    const event = entry.getAttribute('data-event');
    const node = kept.get(event) ?? entry;
    kept.delete(event);
    if (node === next) next = next.nextElementSibling;
    else list.insertBefore(node, next);
  }
  for (const gone of kept.values()) gone.remove();
  // Numbered anew where an entry came or went above (board.css); written only where it changed.
  let number = 0;
  for (const entry of list.children) {
    number += 1;
    const n = String(number);
    if (entry.getAttribute('data-n') !== n) entry.setAttribute('data-n', n);
  }
  // Long or not as drawn (matrix.js).
  list.className = fresh.className;
  for (const name of drawn.getAttributeNames()) shown.setAttribute(name, drawn.getAttribute(name) ?? '');
  // What follows the list in its region ("The 20 latest of 25."), as drawn.
  for (const child of [...shown.children]) if (child !== list) child.remove();
  shown.append(...[...drawn.children].filter((child) => child !== fresh));
  return true;
}

/** What the evidence shown says of itself, for every reader: announced (a status region) as it changes. @param {string} text */
const sayOfEvidence = (text) => {
  byId('evidence-status').textContent = text;
};

/** A count as the page says it, its thousands grouped (6,046; until 2026-12-06 6046, found by the probe of large cells). @param {number} n */
const count = (n) => n.toLocaleString('en');

/** @param {number} shown @param {number} total */
const evidenceCountText = (shown, total) =>
  total === 0
    ? 'No evidence.'
    : total > shown
      ? `The ${count(shown)} latest of ${count(total)}, newest first in world time.`
      : total === 1
        ? '1 entry.'
        : `${count(total)} entries, newest first in world time.`;

/** The retry of the evidence planned, if any, and the wait before the next. */
let evidenceRetry;
let evidenceRetryWait = EVIDENCE_RETRY_FIRST_MS;

/** No retry planned; the next failure waits the first wait. */
function resetEvidenceRetry() {
  clearTimeout(evidenceRetry);
  evidenceRetryWait = EVIDENCE_RETRY_FIRST_MS;
}

/**
 * The evidence could not be read: said above what it showed, which stays (until 2026-12-06 the
 * entries shown went, and nothing read them again until the cell changed or was opened anew; found
 * by the probe of the board's evidence), with a button to try again; and tried again by itself,
 * later, if the failure may pass, as the board's other parts are (mayReadAgain).
 * @param {unknown} error @param {object} shown  the evidence the read was for @param {() => void} again  reads it again
 */
function evidenceFailed(error, shown, again) {
  if (openCell !== shown) return;
  if (isRefusedKey(error)) return onKeyRefused();
  const body = byId('evidence-body');
  body.removeAttribute('aria-busy');
  clearTimeout(evidenceRetry);
  const wait = isPassing(error) ? evidenceRetryWait : undefined;
  const retry = () => {
    clearTimeout(evidenceRetry);
    if (mayReadAgain(shown)) again();
  };
  if (wait !== undefined) {
    evidenceRetryWait = Math.min(wait * 2, EVIDENCE_RETRY_MOST_MS);
    evidenceRetry = setTimeout(retry, wait);
  }
  const button = h('button', { type: 'button', class: 'evidence-retry' }, 'Try again now');
  button.addEventListener('click', retry);
  const said = h('p', { class: 'error evidence-error', role: 'alert' }, `Could not load the evidence: ${messageOf(error)}.${wait === undefined ? '' : ` Trying again in ${wait / 1000} s.`} `, button);
  // Asked again from its button and failed again: focus goes to the new button, not the page's body
  // (found by the probe of the day's fixes).
  const onRetry = document.activeElement instanceof HTMLElement && document.activeElement.matches('.evidence-retry') && body.contains(document.activeElement);
  body.querySelector('.evidence-error')?.remove();
  body.querySelector('.evidence-loading')?.remove();
  const listShown = body.querySelector('.evidence-list') !== null;
  if (listShown) body.prepend(said);
  else replaceChildren(body, said);
  // The status says again what the list still shown is: until 2026-12-06 a failed "Show all" left
  // it at "Loading…" (found by the probe of the evidence panel's reads).
  sayOfEvidence(listShown ? (body.querySelector('[data-said]')?.getAttribute('data-said') ?? '') : '');
  if (onRetry) button.focus();
}

/**
 * Draws a list of evidence entries, with what follows it, and says what it shows (kept on the list,
 * for a failure after it to say again). @param {boolean} keepPlace  drawEvidence's
 * @param {any[]} entries @param {number} total  the cell's count @param {Node | undefined} after
 */
function drawList(keepPlace, entries, total, after) {
  const said = evidenceCountText(entries.length, total);
  const list = evidenceList(entries.map((e) => ({ ...e, sources: e.sources ?? [] })), total);
  list.setAttribute('data-said', said);
  drawEvidence(keepPlace, list, after);
  sayOfEvidence(said);
}

/** The evidence read: the next failure waits the first wait again. */
const evidenceRead = () => {
  resetEvidenceRetry();
  byId('evidence-body').removeAttribute('aria-busy');
};

/**
 * Shows the evidence of a cell; entries are expanded by the API, or resolved one by one from their ids.
 * @param {any} milestone @param {any} cell @param {string} columnName
 * @param {{ focus?: boolean, all?: boolean, live?: boolean }} [options]  focus: moved to the heading
 *   (a cell opened); live: reopened for a live change (or a retry), the entries shown stay until the
 *   new ones replace them, and the reader keeps their place (drawEvidence)
 */
export async function openEvidence(milestone, cell, columnName, { focus = true, all = false, live = false } = {}) {
  const panel = byId('evidence');
  const heading = byId('evidence-heading');
  const body = byId('evidence-body');
  const opened = { programId: readViewState().program, milestone: milestone.milestone, consortiumId: cell.consortiumId ?? '', columnName, all: false };
  // Reopened for a live change, the same cell stays the same evidence shown, so that a read under
  // way for it lands: replaced at every change, a whole list whose read took longer than the
  // changes came apart was never drawn (found by the review of the 5 s bound).
  const shown = live && openCell !== undefined && cellOf(openCell) === cellOf(opened) ? openCell : opened;
  openCell = shown;
  replaceChildren(heading, 'Evidence: ', userText(milestone.title), ', ', userText(columnName));
  body.setAttribute('aria-busy', 'true');
  if (!live) {
    // Another cell: its failures start from the first wait, and a read put off for the one before is moot.
    resetEvidenceRetry();
    clearTimeout(wholeLater);
    replaceChildren(body, h('p', { class: 'muted' }, 'Loading…'));
    sayOfEvidence('Loading…');
    for (const said of panel.querySelectorAll('.download [role="status"]')) said.textContent = '';
  }
  panel.hidden = false;
  if (!live && focus) heading.focus();
  // Whole if the reader asked for it, and kept so while it is shown: a cell that came within its 20
  // latest, whole in them, is read whole again once it grows past them (until 2026-12-06 it showed
  // its 20 latest and "Show all" again; found by the probe of the evidence panel's reads). Whole
  // though its read is put off, a live change meanwhile opens it whole again.
  shown.all = all;
  if (all && cell.evidenceCount > cell.evidence.length) {
    if (live) return wholeAgain(shown, () => void showAllEvidence(milestone, cell, shown, true));
    return showAllEvidence(milestone, cell, shown, false);
  }
  // A whole read under way began before this list: it is not drawn over it, even if the reader asks
  // for the whole list again before it lands (found by the second review of the day's tests); and a
  // whole read put off for a live change, or asked for by the reader, before it is moot (the third
  // and fourth reviews).
  const reads = wholeOf(shown);
  reads.listed += 1;
  reads.next = undefined;
  reads.asked = undefined;
  clearTimeout(wholeLater);
  try {
    const entries = await Promise.all(cell.evidence.map((entry) => (typeof entry === 'string' ? getJson(`/v1/events/${encodeURIComponent(entry)}`).then(toEvidence) : entry)));
    // A slow answer for a cell no longer shown is dropped.
    if (openCell !== shown) return;
    evidenceRead();
    const more = cell.evidenceCount > entries.length;
    const listed = Math.min(cell.evidenceCount, MOST_EVIDENCE);
    const showAll = more
      ? h('button', { type: 'button', class: 'show-all-evidence' }, listed < cell.evidenceCount ? `Show the ${count(listed)} latest of ${count(cell.evidenceCount)}` : `Show all ${count(cell.evidenceCount)}`)
      : undefined;
    showAll?.addEventListener('click', () => {
      // The entries shown stay while the rest are read. The button goes: focus waits on the heading,
      // not the page's body, where it fell until 2026-12-06 (found by the probe of the board's evidence).
      heading.focus();
      showAll.replaceWith(h('p', { class: 'muted evidence-loading' }, 'Loading the rest…'));
      sayOfEvidence('Loading…');
      void showAllEvidence(milestone, cell, shown, true);
    });
    drawList(live, entries, cell.evidenceCount, showAll);
  } catch (error) {
    evidenceFailed(error, shown, () => void openEvidence(milestone, cell, columnName, { all: shown.all, live: true }));
  }
}

/** The read put off until WHOLE_REREAD_MS after the last ended, if any. */
let wholeLater;

/** @param {{ programId: string | undefined, milestone: string, consortiumId: string }} shown */
const cellOf = (shown) => JSON.stringify([shown.programId, shown.milestone, shown.consortiumId]);

/**
 * The reads of a whole list, kept with the evidence shown they are for, so that a read of an
 * earlier opening of the same cell touches none of a later one's (the review of the bound): when
 * the last one ended (performance.now()), the one begun last, with how many lists of the 20 latest
 * were drawn when it began, until it ends; the read a live change asked for meanwhile (made once it
 * ends, WHOLE_REREAD_MS after the last), the read the reader asked for meanwhile ("Try again now":
 * made as soon as it ends), and how many lists of the 20 latest live changes have drawn (a whole
 * read begun before the latest is not drawn).
 * @param {{ reads?: WholeReads }} shown
 * @typedef {{ endedAt: number, current: { listed: number } | undefined, next: (() => void) | undefined, asked: (() => void) | undefined, listed: number }} WholeReads
 */
function wholeOf(shown) {
  shown.reads ??= { endedAt: -Infinity, current: undefined, next: undefined, asked: undefined, listed: 0 };
  return shown.reads;
}

/**
 * Whether a whole read is under way that may still be drawn: one begun before the latest list of
 * the 20 latest will not be, and the next waits for it no longer (until 2026-12-06 it did, up to the
 * two minutes a read may take; found by the probe of the evidence panel's reads).
 * @param {WholeReads} reads
 */
const readingWhole = (reads) => reads.current !== undefined && reads.current.listed === reads.listed;

/**
 * Reads a cell's whole list again for a live change: once the read under way, if any, has ended,
 * and no sooner than WHOLE_REREAD_MS after the last ended (this read replacing any put off before
 * it; mayReadAgain).
 * @param {object} shown @param {() => void} read
 */
function wholeAgain(shown, read) {
  const reads = wholeOf(shown);
  if (readingWhole(reads)) {
    reads.next = read;
    return;
  }
  clearTimeout(wholeLater);
  const now = () => {
    if (!mayReadAgain(shown)) return;
    // A retry may have begun one meanwhile: this one waits for it.
    if (readingWhole(reads)) reads.next = read;
    else read();
  };
  const wait = reads.endedAt + WHOLE_REREAD_MS - performance.now();
  if (wait <= 0) now();
  else wholeLater = setTimeout(now, wait);
}

/**
 * A cell's whole evidence, up to MOST_EVIDENCE entries, read from its evidence pages at the view's
 * cut-offs (SPEC §4: the rest are paged from the cell), every page at the instant the first was
 * answered at: a view of now asks with a knownAt far in the future, which the service answers as of
 * now and pins in each next cursor. Read each as of its own moment, the pages of a list that a fact
 * and a retraction recorded together changed halfway showed the one and not the other (found by the
 * probe of the board's evidence, with the live feed down).
 * @param {boolean} keepShown  for a live change, a retry, or the rest of a list shown: the entries shown stay until these replace them, and the reader keeps their place
 */
async function showAllEvidence(milestone, cell, shown, keepShown) {
  // Kept open whole when a live change draws the matrix again.
  shown.all = true;
  const reads = wholeOf(shown);
  // One whole read at a time: asked for while one is under way ("Try again now" during a put-off
  // read), it is made once that one ends. A retry 10 s after a second failure fired during a put-off
  // read of more than 5 s, and the older of the two could land last (found by the review of the
  // day's tests).
  if (readingWhole(reads)) {
    reads.asked = () => void showAllEvidence(milestone, cell, shown, true);
    byId('evidence-body').setAttribute('aria-busy', 'true');
    return;
  }
  const listed = reads.listed;
  const read = { listed };
  reads.current = read;
  // This read covers any put off until now, and any retry planned.
  clearTimeout(wholeLater);
  clearTimeout(evidenceRetry);
  const body = byId('evidence-body');
  body.setAttribute('aria-busy', 'true');
  if (!keepShown) {
    replaceChildren(body, h('p', { class: 'muted' }, 'Loading…'));
    sayOfEvidence('Loading…');
  }
  const state = readViewState();
  try {
    const { items: entries, more } = await getPaged(evidencePath(state, shown, { knownAt: state.knownAt ?? NOW_PINNED }), 'evidence', MOST_EVIDENCE);
    // Not drawn over the list of a live change since, which found the cell no longer beyond its 20 latest.
    if (openCell !== shown || reads.listed !== listed) return;
    evidenceRead();
    // Cut at MOST_EVIDENCE, the list has at least one more than it shows: the cell's count, read with the matrix, says how many.
    const total = more ? Math.max(cell.evidenceCount, entries.length + 1) : entries.length;
    const rest = more ? h('p', { class: 'muted' }, 'The board lists no more: every entry is in the evidence CSV (Download evidence above).') : undefined;
    drawList(keepShown, entries, total, rest);
  } catch (error) {
    // Begun before a list of the 20 latest was drawn, its failure is moot, but for a key refused: said
    // over that list, its retry read the whole list again (found by the third review).
    if (reads.listed !== listed && !isRefusedKey(error)) return;
    evidenceFailed(error, shown, () => void showAllEvidence(milestone, cell, shown, true));
  } finally {
    // A read no longer to be drawn, overtaken by one begun since, leaves that one's reads as they are.
    if (reads.current === read) {
      reads.current = undefined;
      reads.endedAt = performance.now();
      const { asked, next } = reads;
      reads.asked = undefined;
      reads.next = undefined;
      // Only for the evidence still shown: run for another, its put-off read replaced the shown one's.
      // The reader's own read comes at once, and reads what a live change asked for as well.
      if (openCell === shown) {
        if (asked !== undefined) asked();
        else if (next !== undefined) wholeAgain(shown, next);
      }
    }
  }
}

const toEvidence = (envelope) => ({ id: envelope.id, type: envelope.type, occurredAt: envelope.occurredAt, title: titleOf(envelope), sources: envelope.sources });
