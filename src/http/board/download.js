// A part of the board saved as a CSV file: the view's own CSV form (Accept: text/csv), every page of
// it, fetched with the key (a link could not carry it) and handed to the browser as a file.
import { NOW_PINNED, readFromApi } from './api.js';

/**
 * Fetches `path` as CSV, following its `Link: rel="next"` pages, and saves the rows as one file
 * named as the service names the first page. The file starts with a byte-order mark: Excel opens a
 * CSV without one in the machine's legacy code page, and Korean names come out garbled (found by the
 * probe of the board); the API's own CSV has none, since other readers take it for text.
 * Without a knownAt each page would be whatever was committed when it was read: a file of several
 * pages is asked at NOW_PINNED, answered as of now, at the latest instant settled, which every page
 * echoes and each next page's link names, so that the file holds one instant.
 * @param {string} path  the view with its query; a knownAt is added if it has none
 * @returns {Promise<string>} the file's name
 */
export async function downloadCsv(path) {
  const first = new URL(path, location.origin);
  if (!first.searchParams.has('knownAt')) first.searchParams.set('knownAt', NOW_PINNED);
  let next = `${first.pathname}${first.search}`;
  const parts = [];
  let filename = 'milestone-ledger.csv';
  while (next !== undefined) {
    const page = await readFromApi(next, 'text/csv', (text, response) => ({
      text,
      name: /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1],
      next: nextPage(response),
    }));
    if (parts.length === 0) {
      filename = page.name ?? filename;
      parts.push(page.text);
    } else {
      // Each page repeats the header row: the column names, which hold no line break.
      const end = page.text.indexOf('\r\n');
      parts.push(end < 0 ? '' : page.text.slice(end + 2));
    }
    next = page.next;
  }
  const url = URL.createObjectURL(new Blob(['\uFEFF', ...parts], { type: 'text/csv;charset=utf-8' }));
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The browser has taken the file once the click is handled.
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
  return filename;
}

/** The next page a response names (`Link: <…>; rel="next"`), as a path, or undefined. @param {Response} response */
function nextPage(response) {
  const target = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '')?.[1];
  if (target === undefined) return undefined;
  const url = new URL(target, response.url);
  return `${url.pathname}${url.search}`;
}
