import { readFileSync } from 'node:fs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

/*
 * The status board (SPEC §5): a read-only page and its assets, served from src/http/board/ (copied
 * next to the compiled routes by `npm run build`). The page signs in with an API key in the browser
 * and reads the /v1 API like any client; these routes are public and carry no data.
 */

const BOARD_DIR = new URL('../board/', import.meta.url);

const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
} as const;

/**
 * Everything from this origin only; no inline script or style; nothing may frame the page. The page
 * talks only to this service (connect-src), so a key typed into it cannot be sent anywhere else.
 */
export const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const BOARD_HEADERS = {
  'content-security-policy': BOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'x-frame-options': 'DENY',
  // Small files that change with each release: revalidate rather than serve a stale board.
  'cache-control': 'no-cache',
};

const ASSETS = ['board.js', 'board.css', 'api.js', 'elements.js', 'matrix.js', 'standing.js', 'timeline.js', 'live.js', 'retry.js', 'url-state.js', 'download.js', 'evidence.js', 'icon.svg'] as const;
type Asset = (typeof ASSETS)[number];

interface LoadedFile {
  readonly body: Buffer;
  readonly contentType: string;
}

function loadFile(name: string): LoadedFile {
  const extension = name.slice(name.lastIndexOf('.') + 1);
  const contentType = extension === 'js' || extension === 'css' || extension === 'html' || extension === 'svg' ? CONTENT_TYPES[extension] : undefined;
  if (contentType === undefined) throw new Error(`the board serves no .${extension} files: ${name}`);
  return { body: readFileSync(new URL(name, BOARD_DIR)), contentType };
}

/** The page with the largest page of a list this service gives (MAX_PAGE_SIZE, at most 1000): the board asks for no more. */
function withPageSize(page: LoadedFile, maxPageSize: number): LoadedFile {
  const marker = '<meta name="ml-page-size" content="1000">';
  const text = page.body.toString('utf8');
  if (!text.includes(marker)) throw new Error('index.html lost its ml-page-size meta');
  return { ...page, body: Buffer.from(text.replace(marker, `<meta name="ml-page-size" content="${Math.min(1000, maxPageSize)}">`)) };
}

export const boardRoutes: FastifyPluginAsyncZod<{ readonly maxPageSize: number }> = async (app, { maxPageSize }) => {
  // Read once at start: a missing file stops the service at once rather than 404 at the first visit.
  const page = withPageSize(loadFile('index.html'), maxPageSize);
  const assets = new Map<string, LoadedFile>(ASSETS.map((name): [Asset, LoadedFile] => [name, loadFile(name)]));

  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.headers(BOARD_HEADERS).type(page.contentType).send(page.body),
  );

  app.get(
    '/board/:asset',
    { config: { access: 'public' }, schema: { hide: true, params: z.object({ asset: z.string().max(100) }) } },
    async (request, reply) => {
      const asset = assets.get(request.params.asset);
      if (asset === undefined) return reply.callNotFound();
      return reply.headers(BOARD_HEADERS).type(asset.contentType).send(asset.body);
    },
  );
};
