// The timeline in world time, drawn as SVG of our own: a bar per event over its fuzzy interval.
// Text is SVG <text> set with textContent; geometry is in attributes, so the strict CSP holds.
import { h, isolatedText, svg, svgUserText, userText } from './elements.js';

const WIDTH = 1000;
const LABEL_WIDTH = 380;
const ROW = 24;
const AXIS = 28;
const MIN_BAR = 3;
const MAX_LABEL_CHARS = 52;
/**
 * The most years labelled on the axis: a label ("2026") is some 30 of the axis's 610 units wide.
 * Longer spans are labelled every 2, 5, 10, 20, 50, 100, … years.
 */
const MOST_YEAR_LABELS = 12;
/** The steps the axis may label years at: 1, 2, 5, 10, 20, 50, 100, … (quarters are marked at a step of 1 alone). */
const YEAR_STEPS = [1, 2, 5].flatMap((n) => [1, 10, 100, 1000, 10_000].map((power) => n * power)).sort((a, b) => a - b);

/** 1 January of a year, in ms: Date.UTC would take a year under 100 for 1900 and after. @param {number} year @param {number} [month] from 0 */
function yearStart(year, month = 0) {
  const date = new Date(0);
  date.setUTCFullYear(year, month, 1);
  return date.getTime();
}

/** @param {any} event */
export function titleOf(event) {
  const d = event.data ?? {};
  for (const field of ['title', 'name', 'model', 'outcome', 'note', 'reason', 'consortiumId']) if (typeof d[field] === 'string') return d[field];
  return undefined;
}

/**
 * What an event is about beyond its program: the consortium (by name where known) and the
 * milestone it names, so that rows of one type on one day can be told apart. Pieces of text, each
 * said to be a writer's (a name: isolated when drawn, elements.js) or not.
 * @param {any} event @param {(consortiumId: string) => string} nameOf
 * @returns {{ text: string, writers: boolean }[]}
 */
function subjectOf(event, nameOf) {
  const d = event.data ?? {};
  const parts = [typeof d.consortiumId === 'string' ? nameOf(d.consortiumId) : undefined, typeof d.milestone === 'string' ? d.milestone : undefined];
  return parts.filter((part) => part !== undefined).flatMap((text, i) => [...(i === 0 ? [] : [{ text: ' · ', writers: false }]), { text, writers: true }]);
}

/**
 * An event's title, unless it only repeats the consortium its subject names already (its id, or
 * the name a registration gives it). @param {any} event @param {(consortiumId: string) => string} nameOf
 */
const ownTitleOf = (event, nameOf) => {
  const title = titleOf(event);
  const consortiumId = event.data?.consortiumId;
  return typeof consortiumId === 'string' && (title === consortiumId || title === nameOf(consortiumId)) ? undefined : title;
};

/**
 * The text of an event's row: date, type, what it is about, and its title, as pieces (subjectOf).
 * @param {any} event @param {(consortiumId: string) => string} nameOf
 */
const describe = (event, nameOf) => {
  const subject = subjectOf(event, nameOf);
  const title = ownTitleOf(event, nameOf);
  return [
    { text: `${event.occurredAt.value} ${event.type}`, writers: false },
    ...(subject.length === 0 ? [] : [{ text: ' (', writers: false }, ...subject, { text: ')', writers: false }]),
    ...(title === undefined ? [] : [{ text: ': ', writers: false }, { text: title, writers: true }]),
  ];
};

/** @param {{ text: string }[]} pieces */
const textOf = (pieces) => pieces.map((piece) => piece.text).join('');

/**
 * The pieces cut to MAX_LABEL_CHARS in all, the last one cut ending in "…".
 * @param {{ text: string, writers: boolean }[]} pieces
 */
function shorten(pieces) {
  if (textOf(pieces).length <= MAX_LABEL_CHARS) return pieces;
  const kept = [];
  let room = MAX_LABEL_CHARS - 1;
  for (const piece of pieces) {
    if (room <= 0) break;
    kept.push({ ...piece, text: piece.text.slice(0, room) });
    room -= piece.text.length;
  }
  return [...kept, { text: '…', writers: false }];
}

/** Pieces as SVG text: a writer's isolated from the board's words around it (svgUserText). @param {{ text: string, writers: boolean }[]} pieces */
const svgPieces = (pieces) => pieces.map((piece) => (piece.writers ? svgUserText(piece.text) : piece.text));

/**
 * A page of the timeline: `events` (world-time order, retracted ones marked), with a list for screen
 * readers and small screens.
 * @param {any[]} events
 * @param {HTMLElement | undefined} pager  the way to the other pages, if there are others
 * @param {(consortiumId: string) => string} nameOf  a consortium's name, for what an event is about
 */
export function timelineView(events, pager, nameOf) {
  if (events.length === 0) return h('div', {}, pager, pager === undefined ? h('p', { class: 'muted' }, 'No event at this cut-off.') : undefined);
  const spans = events.map((e) => [Date.parse(e.occurredAt.start), Math.max(Date.parse(e.occurredAt.end), Date.parse(e.occurredAt.start))]);
  const first = new Date(Math.min(...spans.map(([s]) => s)));
  const last = new Date(Math.max(...spans.map(([, e]) => e)));
  // Every year labelled for a short span, as always; a longer one every `step` years, on multiples of
  // it. Until 2026-12-06 every year and quarter had its line whatever the span: events of 1000 and
  // 9998, which the API takes, drew 36,005 lines and 9,001 labels, a solid bar (probe of the board's text).
  const years = last.getUTCFullYear() + 1 - first.getUTCFullYear();
  const step = YEAR_STEPS.find((candidate) => Math.ceil(years / candidate) + 1 <= MOST_YEAR_LABELS) ?? YEAR_STEPS[YEAR_STEPS.length - 1];
  const firstYear = Math.floor(first.getUTCFullYear() / step) * step;
  const endYear = Math.ceil((last.getUTCFullYear() + 1) / step) * step;
  const from = yearStart(firstYear);
  const to = yearStart(endYear);
  const x = (ms) => LABEL_WIDTH + ((ms - from) / (to - from)) * (WIDTH - LABEL_WIDTH - 10);
  const height = AXIS + events.length * ROW + 8;

  const ticks = [];
  for (let year = firstYear; year <= endYear; year += step) {
    const tx = x(yearStart(year));
    ticks.push(svg('line', { x1: tx, x2: tx, y1: AXIS - 6, y2: height, class: 'tick' }));
    // The last line closes the final step: it starts none of its own to label or divide. Nor is a
    // year 0 labelled, which no date names (an event of 999 in UTC steps down to it; review of the day).
    if (year === endYear) continue;
    if (year > 0) ticks.push(svg('text', { x: tx + 3, y: AXIS - 10, class: 'tick-label' }, String(year)));
    if (step === 1) for (const quarter of [1, 2, 3]) ticks.push(svg('line', { x1: x(yearStart(year, quarter * 3)), x2: x(yearStart(year, quarter * 3)), y1: AXIS, y2: height, class: 'tick minor' }));
  }

  const rows = events.map((event, i) => {
    const [start, end] = spans[i] ?? [0, 0];
    const y = AXIS + i * ROW;
    const text = describe(event, nameOf);
    const barX = x(start);
    const barWidth = Math.max(MIN_BAR, x(end) - barX);
    return svg(
      'g',
      { class: event.retracted ? 'event retracted' : 'event', 'data-event': event.id },
      svg('title', {}, `${text.map((piece) => (piece.writers ? isolatedText(piece.text) : piece.text)).join('')}${event.retracted ? ' (retracted)' : ''}`),
      svg('text', { x: 4, y: y + ROW - 8, class: 'event-label' }, ...svgPieces(shorten([...(event.retracted ? [{ text: '✗ ', writers: false }] : []), ...text]))),
      svg('rect', { x: barX, y: y + 5, width: barWidth, height: ROW - 10, rx: 3, class: `bar precision-${event.occurredAt.precision}` }),
    );
  });

  return h(
    'div',
    {},
    pager,
    h(
      'div',
      { class: 'timeline-scroll', tabindex: '0', role: 'region', 'aria-label': 'Timeline chart, scrollable' },
      svg(
        'svg',
        { viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, class: 'timeline-chart', role: 'img', 'aria-label': `${events.length} events from ${first.getUTCFullYear()} to ${last.getUTCFullYear()}; the list below gives each` },
        ...ticks,
        ...rows,
      ),
    ),
    h(
      'details',
      { class: 'timeline-list' },
      h('summary', {}, 'Timeline as a list'),
      h(
        'ol',
        {},
        ...events.map((event) => {
          const title = ownTitleOf(event, nameOf);
          const subject = subjectOf(event, nameOf);
          return h(
            'li',
            { class: event.retracted ? 'retracted' : undefined, 'data-event': event.id },
            h('span', { class: 'date' }, event.occurredAt.value),
            ' ',
            h('code', {}, event.type),
            subject.length === 0 ? '' : h('span', { class: 'event-subject' }, ' (', ...subject.map((piece) => (piece.writers ? userText(piece.text) : piece.text)), ')'),
            title === undefined ? '' : h('span', { class: 'event-title' }, ' ', userText(title)),
            event.retracted ? h('span', { class: 'retracted-mark' }, ' (retracted)') : undefined,
          );
        }),
      ),
    ),
  );
}
