// The timeline in world time, drawn as SVG of our own: a bar per event over its fuzzy interval.
// Text is SVG <text> set with textContent; geometry is in attributes, so the strict CSP holds.
import { h, svg, svgUserText, userText } from './elements.js';

const WIDTH = 1000;
const LABEL_WIDTH = 380;
const ROW = 24;
const AXIS = 28;
const MIN_BAR = 3;
const MAX_LABEL_CHARS = 52;

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
  const from = Date.UTC(first.getUTCFullYear(), 0, 1);
  const to = Date.UTC(last.getUTCFullYear() + 1, 0, 1);
  const x = (ms) => LABEL_WIDTH + ((ms - from) / (to - from)) * (WIDTH - LABEL_WIDTH - 10);
  const height = AXIS + events.length * ROW + 8;

  const ticks = [];
  for (let year = first.getUTCFullYear(); year <= last.getUTCFullYear() + 1; year++) {
    const tx = x(Date.UTC(year, 0, 1));
    ticks.push(svg('line', { x1: tx, x2: tx, y1: AXIS - 6, y2: height, class: 'tick' }));
    // The last line closes the final year: it starts no year of its own to label.
    if (year <= last.getUTCFullYear()) ticks.push(svg('text', { x: tx + 3, y: AXIS - 10, class: 'tick-label' }, String(year)));
    for (const quarter of [1, 2, 3]) {
      const qx = x(Date.UTC(year, quarter * 3, 1));
      if (year <= last.getUTCFullYear()) ticks.push(svg('line', { x1: qx, x2: qx, y1: AXIS, y2: height, class: 'tick minor' }));
    }
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
      svg('title', {}, `${textOf(text)}${event.retracted ? ' (retracted)' : ''}`),
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
