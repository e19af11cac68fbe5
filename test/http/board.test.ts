import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TEST_ADMIN_KEY } from '../support/http.js';
import { startTestApp, useTestApp } from '../support/test-app.js';

/*
 * The status board's page and assets as HTTP answers (the browser tests in status-board.test.ts
 * drive the page itself): public, under a strict Content-Security-Policy, nothing else served.
 */

const t = useTestApp();
const BOARD_DIR = new URL('../../src/http/board/', import.meta.url);
const boardFiles = readdirSync(BOARD_DIR).map((name) => ({ name, text: readFileSync(new URL(name, BOARD_DIR), 'utf8') }));

const directivesOf = (header: unknown) =>
  new Map(
    String(header)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name = '', ...values]): [string, string[]] => [name, values]),
  );

describe('GET / and /board/:asset (the status board)', () => {
  it('serves the page without a key, under a CSP that allows this origin only and nothing inline', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/?program=defense-ax&asOf=2026-04-15' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = directivesOf(response.headers['content-security-policy']);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.body).toContain('<label for="api-key">API key</label>');
    // Submitted natively (before board.js runs, or if it fails to), the sign-in form carries the key
    // in no URL: a form submits named inputs only (independent review).
    const input = /<input[^>]*id="api-key"[^>]*>/.exec(response.body)?.[0];
    expect(input).toBeDefined();
    expect(input).not.toMatch(/\sname=/);
  });

  it.each([
    ['board.js', 'text/javascript; charset=utf-8'],
    ['board.css', 'text/css; charset=utf-8'],
    ['icon.svg', 'image/svg+xml'],
  ])('serves /board/%s as %s under the same CSP', async (asset, contentType) => {
    const response = await t.app.inject({ method: 'GET', url: `/board/${asset}` });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(contentType);
    expect(directivesOf(response.headers['content-security-policy']).get('default-src')).toEqual(["'self'"]);
  });

  it.each(['nope.js', '..%2F..%2F..%2Fpackage.json', 'index.html', '%2E%2E%2Froutes%2Fboard.ts'])('answers /board/%s with a 404 problem', async (asset) => {
    const response = await t.app.inject({ method: 'GET', url: `/board/${asset}` });

    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('serves every file of the board folder, and the page loads nothing from another origin', async () => {
    const page = boardFiles.find((f) => f.name === 'index.html')?.text ?? '';

    for (const { name } of boardFiles.filter((f) => f.name !== 'index.html')) {
      expect((await t.app.inject({ method: 'GET', url: `/board/${name}` })).statusCode, name).toBe(200);
    }
    expect(page.match(/(?:src|href)="[^"]*"/g)).toEqual(['href="/board/icon.svg"', 'href="/board/board.css"', 'src="/board/board.js"', 'href="#main"']);
  });

  it('tells the page the largest list page the service gives, so that the board asks for no more (MAX_PAGE_SIZE below 1000)', async () => {
    const small = await startTestApp({ limits: { maxPageSize: 50 } });
    try {
      const page = await small.app.inject({ method: 'GET', url: '/' });
      const asked = await small.app.inject({ method: 'GET', url: '/v1/programs?limit=1000', headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });

      expect(page.body).toContain('<meta name="ml-page-size" content="50">');
      // What the board would have asked for before: refused, so the board showed nothing but an error.
      expect(asked.statusCode).toBe(400);
    } finally {
      await small.close();
    }
    expect((await t.app.inject({ method: 'GET', url: '/' })).body).toContain('<meta name="ml-page-size" content="1000">');
  });

  it('has no inline script, style or handler, and never writes HTML from data', () => {
    for (const { name, text } of boardFiles) {
      expect(text, name).not.toMatch(/\binnerHTML\b|\bouterHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function/);
      expect(text, name).not.toMatch(/\sstyle="|\son[a-z]+="|setAttribute\('style'|\.style\./);
    }
    const page = boardFiles.find((f) => f.name === 'index.html')?.text ?? '';
    expect(page.match(/<script[^>]*>/g)).toEqual(['<script type="module" src="/board/board.js">']);
    expect(page).not.toMatch(/<style/);
  });
});
