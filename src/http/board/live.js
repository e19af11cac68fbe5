// Live changes of a program from GET /v1/feed. EventSource cannot send an Authorization header, and
// the key must never go in a URL: so fetch() with a stream reader, parsing text/event-stream by hand.

/*
 * Every notification of the program, not only its status changes: an event that changes no cell's
 * status now may change a cell's evidence, or its status at an asOf in the past (a late fact), which
 * the view shown may be; until 2026-12-05 the board said "Live updates: on" and missed both (found
 * by the probe of the board at scale).
 */
const TOPICS = '*';
const RETRY_MS = [1000, 2000, 5000, 10000, 30000];

/**
 * Follows the changes of a program or of a consortium (their events and their cells' status changes)
 * until `signal` aborts; reconnects with Last-Event-ID.
 * @param {{ programId?: string, consortiumId?: string, key: string, signal: AbortSignal, onChange: (change: any) => void, onState: (state: 'live' | 'reconnecting' | 'full' | 'off' | 'refused', how?: { fromNow?: boolean, detail?: string }) => void }} options
 */
export async function followChanges({ programId, consortiumId, key, signal, onChange, onState }) {
  const subject = programId !== undefined ? `&programId=${encodeURIComponent(programId)}` : `&consortiumId=${encodeURIComponent(consortiumId ?? '')}`;
  let lastId;
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      const headers = { authorization: `Bearer ${key}`, accept: 'text/event-stream' };
      if (lastId !== undefined) headers['last-event-id'] = lastId;
      // From now on, or from the last change seen: the page draws the current state once the feed has
      // answered (board.js), and a replay of the program's past changes would only redraw it.
      const from = lastId === undefined ? '&after=now' : '';
      const response = await fetch(`/v1/feed?topics=${encodeURIComponent(TOPICS)}${subject}${from}`, {
        headers,
        credentials: 'omit',
        cache: 'no-store',
        signal,
      });
      // A key refused (401) or not allowed (403) will not get better by retrying; too many feeds (429) or an outage (503) may.
      if (response.status === 401) return onState('refused');
      if (response.status === 403) return onState('off');
      // A Last-Event-ID the service refuses (400 invalid-cursor: its database was restored or
      // replaced) will be refused again: follow from now instead, at once, and the page reads the
      // views again (fromNow below), since what came after that cursor cannot be replayed.
      if (response.status === 400 && lastId !== undefined) {
        await response.body?.cancel();
        lastId = undefined;
        continue;
      }
      // The key's feeds (429 too-many-feeds) or the instance's (503 feed-capacity-reached) are all
      // taken, or the key's requests (429 rate-limited): no outage, and asking again before
      // Retry-After would be refused again. Said as such, with the problem's words (until 2026-12-06
      // "reconnecting…" for as long, found by the probe of the board).
      if (response.status === 429 || response.status === 503) {
        const problem = await response.json().catch(() => undefined);
        if (response.status === 429 || problem?.type === '/problems/feed-capacity-reached') {
          onState('full', { detail: typeof problem?.detail === 'string' ? problem.detail : undefined });
          await sleep(1000 * retryAfterSeconds(response), signal);
          continue;
        }
      }
      if (!response.ok || response.body === null) throw new Error(`feed answered ${response.status}`);
      // From now: what came before this connection is not on it (board.js reads the views again).
      onState('live', { fromNow: lastId === undefined });
      attempt = 0;
      for await (const frame of framesOf(response.body)) {
        if (frame.id !== undefined) lastId = frame.id;
        if (frame.event !== undefined && frame.data !== undefined) onChange(JSON.parse(frame.data).data);
      }
    } catch (error) {
      if (signal.aborted) return;
      void error;
    }
    onState('reconnecting');
    await sleep(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] ?? 30000, signal);
  }
}

/**
 * The frames of a text/event-stream body: blank-line separated `field: value` lines; `:` lines are comments.
 * @param {ReadableStream<Uint8Array>} body
 * @returns {AsyncGenerator<{ id?: string, event?: string, data?: string }>}
 */
async function* framesOf(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const frame = parseFrame(block);
        if (frame !== undefined) yield frame;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** @param {string} block @returns {{ id?: string, event?: string, data?: string } | undefined} */
function parseFrame(block) {
  /** @type {{ id?: string, event?: string, data?: string }} */
  const frame = {};
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
    else if (field === 'id' || field === 'event') frame[field] = value;
  }
  return Object.keys(frame).length === 0 ? undefined : frame;
}

/** A response's Retry-After in seconds, from 1 to 300; 30 when it has none. @param {Response} response */
function retryAfterSeconds(response) {
  const seconds = Number(response.headers.get('retry-after') ?? '');
  return Number.isInteger(seconds) && seconds > 0 ? Math.min(seconds, 300) : 30;
}

/** @param {number} ms @param {AbortSignal} signal */
const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(undefined);
    }, { once: true });
  });
