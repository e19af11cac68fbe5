// The view lives in the page's URL (?program=&consortium=&asOf=&knownAt=&from=&to=), so a copied
// link reopens it. The API key never does.

/** @typedef {{ program?: string, consortium?: string, asOf?: string, knownAt?: string, from?: string, to?: string }} ViewState */

const FIELDS = /** @type {const} */ (['program', 'consortium', 'asOf', 'knownAt', 'from', 'to']);

/** @returns {ViewState} */
export function readViewState() {
  const search = new URLSearchParams(location.search);
  /** @type {ViewState} */
  const state = {};
  for (const field of FIELDS) {
    const value = search.get(field);
    if (value) state[field] = value;
  }
  return state;
}

/**
 * Records a new view in the history, so Back returns to the previous one.
 * @param {ViewState} state
 */
export function pushViewState(state) {
  const search = new URLSearchParams();
  for (const field of FIELDS) if (state[field]) search.set(field, String(state[field]));
  const text = search.toString();
  const url = `${location.pathname}${text === '' ? '' : `?${text}`}`;
  if (url !== `${location.pathname}${location.search}`) history.pushState(null, '', url);
}

/** The view's cut-offs, as the API's views take them. @param {ViewState} state */
export const cutoffs = (state) => ({ asOf: state.asOf, knownAt: state.knownAt });
