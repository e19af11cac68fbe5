// The board's only way to the service: fetch() with the key as a Bearer header. The key lives in
// this tab's sessionStorage and goes nowhere else (not the URL, not a cookie, not the console).

const KEY_ITEM = 'milestone-ledger.api-key';

/** No answer came: the service out of reach (a network error) or silent past ANSWER_WITHIN_MS. Asking again may get one. */
export class NoAnswerError extends Error {}

export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @returns {string | null} */
export const storedKey = () => sessionStorage.getItem(KEY_ITEM);
/** @param {string} key */
export const storeKey = (key) => sessionStorage.setItem(KEY_ITEM, key);
export const forgetKey = () => sessionStorage.removeItem(KEY_ITEM);

/**
 * How long the board waits for an answer before it says it got none (the page's
 * `ml-answer-within-ms`, two minutes): long past what a read takes at the service's settings (each
 * of its few statements is cut off at DATABASE_STATEMENT_TIMEOUT_MS, 15 s by default), so that it
 * gives up on a request lost on the way, which would otherwise leave its part "Loading…" and hold
 * back the live refreshes queued behind it, not on a slow one.
 */
const ANSWER_WITHIN_MS = Number(document.querySelector('meta[name="ml-answer-within-ms"]')?.getAttribute('content') ?? '120000');

/**
 * GETs a path of the API in `accept`, with the key, and gives a 2xx answer's body to `read`; the
 * request and its body within ANSWER_WITHIN_MS. Otherwise an ApiError with the problem's detail (or
 * title), or a NoAnswerError if none came in time (its body included) or the network failed. `read`
 * runs once the body is in, so that an error of its own is never taken for a lost answer.
 * @template T
 * @param {string} path  with its query, e.g. /v1/programs?limit=1000
 * @param {string} accept
 * @param {(body: string, response: Response) => T} read
 * @param {string} [key]  defaults to the stored key
 * @returns {Promise<T>}
 */
export async function readFromApi(path, accept, read, key = storedKey() ?? '') {
  const signal = AbortSignal.timeout(ANSWER_WITHIN_MS);
  let response;
  let body;
  try {
    response = await fetch(path, {
      headers: { authorization: `Bearer ${key}`, accept },
      credentials: 'omit',
      cache: 'no-store',
      signal,
    });
    body = await response.text();
  } catch (error) {
    if (signal.aborted) throw new NoAnswerError(`the service did not answer within ${Math.round(ANSWER_WITHIN_MS / 1000)} s`);
    // fetch() and reading the body reject with a TypeError when no whole answer came (refused,
    // reset, offline), in each browser's words ("Failed to fetch", "Load failed"): said as what it
    // means, with them (until 2026-12-06 they alone; found by the probe of large cells).
    if (error instanceof TypeError) throw new NoAnswerError(`no answer from the service (${error.message}): it, or the network to it, may be down`);
    throw error;
  }
  if (!response.ok) {
    const problem = parsedOrUndefined(body);
    const said = typeof problem?.detail === 'string' ? problem.detail : typeof problem?.title === 'string' ? problem.title : response.statusText;
    throw new ApiError(response.status, said || `HTTP ${response.status}`);
  }
  return read(body, response);
}

/**
 * GETs a path of the API as JSON.
 * @param {string} path  with its query, e.g. /v1/programs?limit=1000
 * @param {string} [key]  defaults to the stored key
 * @returns {Promise<any>}
 */
export const getJson = (path, key = storedKey() ?? '') =>
  readFromApi(
    path,
    'application/json',
    (text, response) => {
      const body = parsedOrUndefined(text);
      if (body === undefined || body === null) throw new Error(`the service answered ${response.status} with something other than JSON`);
      return body;
    },
    key,
  );

/** The shared JSON reads under way, by draw, key and path. */
const sharedReads = new Map();

/**
 * GETs a path as JSON, sharing the read with any other of the same path asked for the same draw
 * (`among`) while it is under way: one draw's parts that need one answer (the shown program's card
 * and its matrix) read it once. Only within a draw: a read of a later draw, made for a change
 * recorded since, must not be answered by one that began before it (found by the review of the
 * sharing, first made for every read). The answer is shared, so it is read, never changed.
 * @param {string} path @param {number} among  the draw
 * @returns {Promise<any>}
 */
export function getJsonShared(path, among) {
  const key = storedKey() ?? '';
  const id = `${among} ${key} ${path}`;
  const under = sharedReads.get(id);
  if (under !== undefined) return under;
  const read = getJson(path, key).finally(() => sharedReads.delete(id));
  sharedReads.set(id, read);
  return read;
}

/** A body as JSON, or undefined when it is none (a proxy's error page). @param {string} text */
function parsedOrUndefined(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The largest page the service gives (MAX_PAGE_SIZE, at most 1000), as the page it served says. */
export const PAGE_SIZE = document.querySelector('meta[name="ml-page-size"]')?.getAttribute('content') ?? '100';

/**
 * Every item of a paged list, following nextCursor, or its first `most`; with the first page, for
 * what a view carries beside its list (a consortium's status: the consortium).
 * @param {string} path  without limit/after
 * @param {string} field  the list's field in each page
 * @param {number} [most]
 * @returns {Promise<{ first: any, items: any[], more: boolean }>}  more: items beyond the first `most` were left unread
 */
export async function getPaged(path, field, most = Infinity) {
  const items = [];
  let first;
  let after;
  let next = path;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const page = await getJson(`${next}${separator}limit=${PAGE_SIZE}${after === undefined ? '' : `&after=${encodeURIComponent(after)}`}`);
    if (first === undefined) {
      first = page;
      // A knownAt not settled when asked is answered at an earlier instant, which the page echoes:
      // the next pages are asked at that instant, so that every page answers at the same one.
      next = atEchoedKnownAt(path, page.cutoff?.knownAt);
    }
    items.push(...page[field]);
    after = page.nextCursor ?? undefined;
  } while (after !== undefined && items.length < most);
  return { first, items: items.slice(0, most), more: items.length > most || after !== undefined };
}

/**
 * `path` with its knownAt, if it has one, set to the instant the first page echoed.
 * @param {string} path
 * @param {string | undefined} echoed
 */
function atEchoedKnownAt(path, echoed) {
  const url = new URL(path, location.origin);
  if (echoed === undefined || !url.searchParams.has('knownAt')) return path;
  url.searchParams.set('knownAt', echoed);
  return `${url.pathname}${url.search}`;
}

/**
 * Every item of a paged list, following nextCursor, or its first `most`.
 * @param {string} path  without limit/after
 * @param {string} field  the list's field in each page
 * @param {number} [most]
 * @returns {Promise<any[]>}
 */
export const getAll = async (path, field, most = Infinity) => (await getPaged(path, field, most)).items;

/**
 * A query string of the cut-offs (asOf, knownAt) and any other parameters that are set.
 * @param {Record<string, string | undefined>} parameters
 */
export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value) search.set(name, value);
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** @param {unknown} error */
export const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/** The key is no longer accepted (revoked). @param {unknown} error */
export const isRefusedKey = (error) => error instanceof ApiError && error.status === 401;

/** A knownAt far in the future: the service answers it as of now, and pins the next page's cursor to that instant. */
export const NOW_PINNED = '9998-12-31';
