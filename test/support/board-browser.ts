import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/*
 * Debian's chromium driven by playwright-core: Playwright's own browser download cannot work in CI,
 * so .ci/run installs the distribution's package and the tests point at it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export const launchBrowser = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

/** What went wrong in a page: uncaught errors, console errors, CSP violations and dialogs (an alert() would be one). */
export interface PageProblems {
  readonly errors: string[];
  readonly cspViolations: string[];
  readonly dialogs: string[];
}

export interface BoardPage {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly problems: PageProblems;
}

/** A fresh tab (its own sessionStorage) watching for errors, CSP violations and dialogs. */
export async function openBoardPage(
  browser: Browser,
  options: { viewport?: { width: number; height: number }; bypassCSP?: boolean; timezoneId?: string } = {},
): Promise<BoardPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1400, height: 900 },
    bypassCSP: options.bypassCSP ?? false,
    ...(options.timezoneId !== undefined && { timezoneId: options.timezoneId }),
  });
  const page = await context.newPage();
  // A missing element fails a test in seconds, not at Playwright's default of 30.
  page.setDefaultTimeout(10_000);
  const problems: PageProblems = { errors: [], cspViolations: [], dialogs: [] };
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(`console: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    problems.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  // The page reports violations to the test through a binding, installed before any of its scripts run.
  await page.exposeBinding('reportCspViolation', (_source, text: string) => problems.cspViolations.push(text));
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      window.reportCspViolation(event.violatedDirective + ' blocked ' + event.blockedURI + ' (' + event.sourceFile + ':' + event.lineNumber + ')');
    });`,
  });
  return { context, page, problems };
}

/** Signs in through the form, as an analyst does. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#program-list li').first().waitFor();
}
