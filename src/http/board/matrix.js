// Programs, a program's matrix (milestones × consortiums) and a cell's evidence, as DOM nodes.
import { h, isolatedText, sourceLink, userText } from './elements.js';

export const STATUSES = ['planned', 'in_progress', 'achieved', 'missed', 'cancelled'];

/** @param {string} status */
export const statusLabel = (status) => status.replace('_', ' ');

/**
 * A status as text and colour (never colour alone).
 * @param {string} status
 */
export const statusBadge = (status) => h('span', { class: `status status-${status}`, 'data-status': status }, statusLabel(status));

/**
 * The mark of a status not yet certain: a `?` seen, "not certain yet" read out (the `?` is not).
 * @param {string} title
 */
export const uncertainMark = (title) => h('span', { class: 'uncertain', title }, h('span', { 'aria-hidden': 'true' }, ' ?'), h('span', { class: 'visually-hidden' }, ' not certain yet'));

/**
 * Counts per status, zeros left out.
 * @param {Record<string, number>} counts
 */
export function countList(counts) {
  const shown = STATUSES.filter((status) => (counts[status] ?? 0) > 0);
  if (shown.length === 0) return h('p', { class: 'muted' }, 'No milestone cells yet');
  return h('ul', { class: 'counts', 'aria-label': 'Cells per status' }, ...shown.map((status) => h('li', {}, statusBadge(status), ` ${counts[status]}`)));
}

/**
 * A program card: name (a link to its matrix), sponsor, milestones and counts.
 * @param {{ programId: string, name: string, sponsor?: string }} program
 * @param {{ milestones: any[], counts: Record<string, number> } | { error: string } | undefined} view  undefined: not registered at the cut-off
 * @param {string} href
 * @param {boolean} selected
 */
export function programCard(program, view, href, selected) {
  return h(
    'li',
    { class: selected ? 'card selected' : 'card', 'data-program': program.programId },
    h('h3', {}, h('a', { href, 'aria-current': selected ? 'true' : undefined }, userText(program.name))),
    h('p', { class: 'muted' }, program.sponsor === undefined ? 'No sponsor recorded' : ['Sponsor: ', userText(program.sponsor)]),
    view === undefined
      ? h('p', { class: 'muted' }, 'Not yet registered at this cut-off')
      : 'error' in view
        ? h('p', { class: 'error' }, `Could not load its milestones: ${view.error}`)
        : h('div', {}, h('p', {}, `${view.milestones.length} milestone${view.milestones.length === 1 ? '' : 's'}`), countList(view.counts)),
  );
}

/** @param {{ value: string } | undefined} date */
const dateText = (date) => (date === undefined ? '—' : date.value);

/**
 * One cell as a button that opens its evidence.
 * @param {any} milestone
 * @param {any} cell
 * @param {string} columnName
 * @param {(milestone: any, cell: any, columnName: string) => void} openEvidence
 */
function cellButton(milestone, cell, columnName, openEvidence) {
  const uncertain = cell.certain === false;
  // The visible text is the button's name, prefixed (for screen readers) with which cell it is.
  const button = h(
    'button',
    {
      type: 'button',
      class: `cell cell-${cell.status}${cell.overdue ? ' overdue' : ''}`,
      'data-milestone': milestone.milestone,
      'data-consortium': cell.consortiumId ?? '',
      'data-status': cell.status,
    },
    h('span', { class: 'visually-hidden' }, userText(milestone.title), ', ', userText(columnName), ': '),
    h(
      'span',
      { class: 'cell-status' },
      statusBadge(cell.status),
      uncertain ? uncertainMark('Not certain yet: the period of the event that set it has not ended at the cut-off') : undefined,
    ),
    h('span', { class: 'cell-line' }, `since ${cell.since.value}`),
    cell.due === undefined ? undefined : h('span', { class: 'cell-line' }, `due ${cell.due.value}`),
    cell.overdue ? h('span', { class: 'cell-line overdue-mark' }, 'overdue') : undefined,
    h('span', { class: 'cell-line muted' }, `${cell.evidenceCount} evidence`),
  );
  button.addEventListener('click', () => openEvidence(milestone, cell, columnName));
  return button;
}

/**
 * When a consortium was eliminated from the program at the view's cut-offs, as the matrix's
 * `eliminations` tell it, so that its cancelled cells are told from milestones cancelled for other
 * reasons. Until 2026-12-06 the board looked for the elimination among its cells' evidence, which
 * holds only the 20 latest entries (SPEC §4): after 20 later facts, the mark was gone (found by the
 * probe of analysts' answers).
 * @param {{ eliminations?: { consortiumId: string, eliminatedAt: { value: string } }[] }} view @param {string} consortiumId
 */
function eliminationOf(view, consortiumId) {
  return view.eliminations?.find((e) => e.consortiumId === consortiumId)?.eliminatedAt.value;
}

/**
 * The matrix of a program's milestones: a column for program-scope cells, one per consortium.
 * @param {{ programId: string, milestones: any[], eliminations?: any[] }} view
 * @param {string} programName
 * @param {Map<string, { name: string }>} consortiums
 * @param {(milestone: any, cell: any, columnName: string) => void} openEvidence
 */
export function matrixTable(view, programName, consortiums, openEvidence) {
  const hasProgramScope = view.milestones.some((m) => m.scope === 'program');
  const columnIds = [...new Set(view.milestones.flatMap((m) => m.cells.map((c) => c.consortiumId)).filter((id) => id !== undefined))];
  const nameOf = (id) => consortiums.get(id)?.name ?? id;
  const columns = [...(hasProgramScope ? [{ id: undefined, name: 'Program-wide' }] : []), ...columnIds.map((id) => ({ id, name: nameOf(id), eliminated: eliminationOf(view, id) }))];
  if (view.milestones.length === 0) return h('p', { class: 'muted' }, 'No milestone is planned at this cut-off.');
  const table = h(
    'table',
    { class: 'matrix-table' },
    h('caption', {}, userText(programName), ': status of each milestone, per consortium or for the whole program'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Milestone'),
        ...columns.map((c) =>
          h('th', { scope: 'col', 'data-column': c.id ?? '' }, c.id === undefined ? c.name : userText(c.name), c.eliminated === undefined ? undefined : h('span', { class: 'eliminated-mark small' }, `eliminated ${c.eliminated}`)),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...view.milestones.map((m) =>
        h(
          'tr',
          { 'data-milestone': m.milestone },
          h('th', { scope: 'row' }, h('span', { class: 'milestone-title' }, userText(m.title)), h('span', { class: 'muted small' }, `${m.milestone} · ${m.scope} scope · due ${dateText(m.due)}`)),
          ...columns.map((column) => {
            const cell = m.cells.find((c) => c.consortiumId === column.id);
            if (cell === undefined) return h('td', { class: 'no-cell' }, h('span', { 'aria-hidden': 'true' }, '—'), h('span', { class: 'visually-hidden' }, 'no cell'));
            return h('td', {}, cellButton(m, cell, column.name, openEvidence));
          }),
        ),
      ),
    ),
  );
  const region = h('div', { class: 'table-scroll matrix-scroll', tabindex: '0', role: 'region', 'aria-label': `${isolatedText(programName)} matrix, scrollable` }, table);
  // The browser scrolls to a focused cell only if it is out of sight, and one half under the column
  // counts as in sight: brought clear of it (the region's scroll padding, board.css).
  region.addEventListener('focusin', (event) => {
    if (event.target instanceof HTMLElement && event.target.matches('button.cell')) event.target.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  });
  return region;
}

/**
 * Beyond this many entries, a list lays out and paints only the entries in or near its sight
 * (board.css). Not below: laid out on sight, an entry's size is an estimate until then, and a
 * short list scrolled to its end, redrawn, could settle a few pixels from where it stood.
 */
const LONG_LIST = 100;

/**
 * A cell's evidence: date, type, title and links to its sources.
 * @param {{ id: string, type: string, occurredAt: { value: string }, title?: string, sources: { url: string, publisher?: string, title?: string, publishedAt?: string }[] }[]} entries
 * @param {number} total
 */
export function evidenceList(entries, total) {
  if (entries.length === 0) return h('p', { class: 'muted' }, 'No event bears on this cell: it is as planned.');
  // Its own scroll region, as the matrix's: a list of 5,000 entries made the page 440,000 px tall,
  // the standing and the timeline out of reach below it (found by the probe of large cells).
  return h(
    'div',
    { class: 'evidence-scroll', tabindex: '0', role: 'region', 'aria-label': 'Evidence entries, scrollable' },
    // Every list draws its numbers itself, from data-n (board.css), and says it is a list, which a
    // list without markers is not to every screen reader (VoiceOver).
    h('ol', { class: entries.length > LONG_LIST ? 'evidence-list long' : 'evidence-list', role: 'list' }, ...entries.map((e, at) =>
      h(
        'li',
        { 'data-event': e.id, 'data-n': String(at + 1) },
        h('p', {}, h('span', { class: 'date' }, e.occurredAt.value), ' ', h('code', {}, e.type)),
        e.title === undefined ? undefined : h('p', { class: 'evidence-title' }, userText(e.title)),
        e.sources.length === 0
          ? h('p', { class: 'muted' }, 'No source given')
          : h('ul', { class: 'sources', 'aria-label': 'Sources' }, ...e.sources.map((s) => h('li', {}, sourceLink(s.url, [s.publisher, s.title]), s.publishedAt ? ` (${s.publishedAt})` : ''))),
      ),
    )),
    total > entries.length ? h('p', { class: 'muted' }, `The ${entries.length.toLocaleString('en')} latest of ${total.toLocaleString('en')}.`) : undefined,
  );
}
