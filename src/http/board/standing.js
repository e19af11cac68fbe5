// A consortium's standing across every program it is in.
import { h, isolatedText, userText } from './elements.js';
import { statusBadge, uncertainMark } from './matrix.js';

/**
 * @param {{ consortium: { consortiumId: string, name: string, lead: string, models: string[] }, programs: any[] }} view
 * @param {(programId: string) => string} programHref
 */
export function standingView(view, programHref) {
  const { consortium } = view;
  return h(
    'div',
    {},
    h('p', {}, 'Led by ', userText(consortium.lead), consortium.models.length > 0 ? ['; models: ', ...consortium.models.flatMap((model, i) => (i === 0 ? [userText(model)] : [', ', userText(model)]))] : ''),
    view.programs.length === 0
      ? h('p', { class: 'muted' }, 'Not enrolled in any program at this cut-off.')
      : h(
          'div',
          { class: 'standing-programs' },
          ...view.programs.map((p) =>
            h(
              'article',
              { class: 'standing-program', 'data-program': p.program.programId },
              h('h3', {}, h('a', { href: programHref(p.program.programId) }, userText(p.program.name))),
              h('p', { class: 'muted' }, `Enrolled ${p.enrolledAt.value}`, p.eliminatedAt === undefined ? '' : `; eliminated ${p.eliminatedAt.value}`),
              h(
                'div',
                { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': `${isolatedText(consortium.name)} in ${isolatedText(p.program.name)}, scrollable` },
                h(
                  'table',
                  { class: 'standing-table' },
                  h('caption', { class: 'visually-hidden' }, userText(consortium.name), ' in ', userText(p.program.name)),
                  h('thead', {}, h('tr', {}, ...['Milestone', 'Status', 'Since', 'Due', 'Overdue'].map((c) => h('th', { scope: 'col' }, c)))),
                  h(
                    'tbody',
                    {},
                    ...p.milestones.map((m) =>
                      h(
                        'tr',
                        { 'data-milestone': m.milestone },
                        h('th', { scope: 'row' }, userText(m.title), m.scope === 'program' ? h('span', { class: 'muted small' }, 'program-wide') : undefined),
                        h('td', {}, statusBadge(m.status), m.certain === false ? uncertainMark('Not certain yet') : undefined),
                        h('td', {}, m.since.value),
                        h('td', {}, m.due?.value ?? '—'),
                        h('td', {}, m.overdue ? h('span', { class: 'overdue-mark' }, 'overdue') : 'no'),
                      ),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ),
  );
}
