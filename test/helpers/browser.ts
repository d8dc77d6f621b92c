import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { REPO } from './hooksd.js';
import { reapOnExit, signalGroup } from './reaper.js';

/** Debian's chromium, as `command -v chromium` finds it; .ci/run installs it when missing. */
export function chromiumPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium is not installed: apt-get install -y --no-install-recommends chromium');
  }
}

/**
 * Headless Chromium for one test, closed when it ends. It runs as its own process group,
 * which the reaper stops should this test process die before its teardown runs.
 */
export async function launchBrowser(t: Test): Promise<Browser> {
  const server = await chromium.launchServer({
    executablePath: chromiumPath(),
    headless: true,
    // As root (CI), Chromium refuses to start with its sandbox.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
  const pid = server.process().pid!;
  const forget = reapOnExit(-pid);
  const browser = await chromium.connect(server.wsEndpoint());
  t.teardown(async () => {
    await browser.close().catch(() => undefined);
    await server.close();
    signalGroup(-pid, 'SIGKILL');
    forget();
  });
  return browser;
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** Requests the page tried to make anywhere but the daemon (each was refused). */
  offHost: string[];
  /** Dialogs the page opened (alert, confirm, prompt): a script that should not run did. */
  dialogs: string[];
  /** Script errors and console errors (a Content-Security-Policy violation is one). */
  errors: string[];
  /** Opens `path` under the daemon's address. */
  open(path: string): Promise<void>;
  /** Signs in with `token` through the form, and waits for the overview. */
  signIn(token: string): Promise<void>;
  /**
   * Saves a screenshot of the page as NAME.png: in docs/ui when UPDATE_SCREENSHOTS=1, else in a
   * temporary folder, so a test run leaves the working tree as it was.
   */
  screenshot(name: string, options?: { fullPage?: boolean }): Promise<void>;
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/**
 * A tab of the console on the daemon at `daemonUrl`. Every request to another origin is
 * refused and recorded, so a test can say the page made none; dialogs are recorded and
 * dismissed; the zone and locale are fixed, so times read the same on every machine.
 */
export async function openConsole(
  t: Test,
  browser: Browser,
  daemonUrl: string,
  options: { viewport?: { width: number; height: number }; timezoneId?: string } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    timezoneId: options.timezoneId ?? 'Europe/Berlin',
    locale: 'en-GB',
    colorScheme: 'light',
    reducedMotion: 'reduce',
  });
  t.teardown(() => context.close().catch(() => undefined));
  const origin = new URL(daemonUrl).origin;
  const offHost: string[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];
  await context.route('**', (route) => {
    const url = route.request().url();
    if (url.startsWith('data:') || new URL(url).origin === origin) return route.continue();
    offHost.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('dialog', (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium also logs every answer of 400 and more, which the page shows in its own way (a
    // refused token, a missing record): those are not errors of the page.
    if (message.type() === 'error' && !/^Failed to load resource: the server responded/.test(message.text()))
      errors.push(message.text());
  });
  return {
    page,
    context,
    offHost,
    dialogs,
    errors,
    async open(where) {
      await page.goto(origin + where);
    },
    async signIn(token) {
      await page.goto(`${origin}/ui`);
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
    },
    async screenshot(name, shotOptions = {}) {
      const dir =
        process.env.UPDATE_SCREENSHOTS === '1'
          ? path.join(REPO, 'docs', 'ui')
          : path.join(os.tmpdir(), 'hooksd-screenshots');
      mkdirSync(dir, { recursive: true });
      // No caret, no animation: the same page gives the same picture.
      await page.screenshot({
        path: path.join(dir, `${name}.png`),
        fullPage: shotOptions.fullPage ?? true,
        animations: 'disabled',
        caret: 'hide',
      });
    },
  };
}
