import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, as scripts/setup.sh --test installs it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless chromium with everything that would phone home turned off. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** What happened while a page loaded: console errors, requests made, dialogs opened. */
export interface PageWatch {
  consoleErrors: string[];
  requests: string[];
  dialogs: string[];
}

/** Opens `url` in a fresh page and records console errors, every request and any dialog. */
export async function openWatched(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; watch: PageWatch }> {
  const page = await browser.newPage({ viewport });
  const watch: PageWatch = { consoleErrors: [], requests: [], dialogs: [] };
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') watch.consoleErrors.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (error) => watch.consoleErrors.push(`pageerror: ${error.message}`));
  page.on('request', (request) => watch.requests.push(request.url()));
  page.on('dialog', (dialog) => {
    watch.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, watch };
}
