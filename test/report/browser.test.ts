import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runEtl } from '../../src/etl/run.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { configSchema } from '../../src/config/schema.ts';
import { paramsFromConfig, trainModel } from '../../src/ml/service.ts';
import { runCli } from '../helpers/cli.ts';
import { ROOT } from '../helpers/moto.ts';
import { launchChromium, openWatched } from '../helpers/report-browser.ts';
import { HOSTILE } from '../helpers/report-fixtures.ts';
import { generatedRawLake, removeLake, renamedCopies } from '../helpers/report-lake.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { describeWith } from '../helpers/requires.ts';

const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/** The report's charts, by figure id; each must have drawn marks. */
const CHARTS = [
  'events-per-hour',
  'status-mix',
  'top-categories',
  'top-eventNames',
  'top-groupCities',
  'top-groupCountries',
  'top-groupNames',
  'top-venueCities',
  'top-venueCountries',
  'top-venueNames',
  'group-map',
  'freshness',
  'confusion',
  'top-words',
];

/**
 * In-page script (tsconfig has no DOM types): the chart's rendered size and how many of its Vega
 * marks have real geometry.
 */
const MARKS_IN = (id: string): string => `(() => {
  const svg = document.querySelector('#${id} svg.chart');
  if (!svg) return { width: 0, height: 0, drawn: 0 };
  const box = svg.getBoundingClientRect();
  const drawn = [...svg.querySelectorAll('.role-mark > *')].filter((el) => {
    const b = el.getBBox();
    return b.width > 0 || b.height > 0;
  });
  return { width: box.width, height: box.height, drawn: drawn.length };
})()`;

describeWith(['chromium'], 'the built report in chromium', () => {
  let root: string;
  let out: string;
  let built: { location: string; indexLocation: string; outFile: string; bytes: number };
  let browser: Browser;
  let trained: Awaited<ReturnType<typeof trainModel>>;

  beforeAll(async () => {
    // Given a lake the real ETL made from 3,000 generated events over 5 hours, plus 12 events
    // named <script>… (with that name as group, venue and city too), and a real trained model
    root = await mkdtemp(path.join(os.tmpdir(), 'oe-report-browser-'));
    out = path.join(root, 'site');
    const store = new LocalStore(root);
    const [first] = createGenerator({ seed: 5, count: 1 });
    const hostile = renamedCopies(first!.line, HOSTILE, 12, 'hostile');
    await generatedRawLake(store, { seed: 11, count: 3000, hours: 5, startMs: Date.UTC(2026, 0, 5, 8), extra: hostile });
    const etl = await runEtl(store, { select: { all: true } });
    expect(etl.failed).toEqual([]);
    // The model: the ML stage trains on the lake's outdoors/tech events (few trees: fast)
    const ml = paramsFromConfig(configSchema.parse({}).ml, { trees: 10 });
    trained = await trainModel(store, { params: ml });
    // When the report is built with the real command
    const run = await runCli(['report', 'build', '--lake', root, '--out', out, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    built = JSON.parse(run.stdout);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await removeLake(new LocalStore(root), root);
  });

  it('writes the timestamped report, index.html and the --out copy, all the same page', async () => {
    expect(path.dirname(built.location)).toBe(path.join(root, 'reports'));
    expect(path.basename(built.location)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{6}Z\.html$/);
    expect(built.indexLocation).toBe(path.join(root, 'reports', 'index.html'));
    expect(built.outFile).toBe(path.join(out, path.basename(built.location)));
    const page = await readFile(built.location);
    expect(page.equals(await readFile(built.indexLocation))).toBe(true);
    expect(page.equals(await readFile(built.outFile))).toBe(true);
    expect(page.byteLength).toBe(built.bytes);
  });

  it('renders every chart with marks, logs no errors, fetches nothing and runs nothing', async () => {
    const url = pathToFileURL(built.indexLocation).href;
    const { page, watch } = await openWatched(browser, url, { width: 1280, height: 900 });
    try {
      for (const id of CHARTS) {
        const marks = (await page.evaluate(MARKS_IN(id))) as { width: number; height: number; drawn: number };
        expect(marks.width, id).toBeGreaterThan(100);
        expect(marks.height, id).toBeGreaterThan(50);
        expect(marks.drawn, id).toBeGreaterThan(0);
      }
      // The hostile name tops the event-names chart (12 unique events) and shows as text, in the
      // chart's axis (truncated to fit) and in full in its data table
      const labels = await page.locator('#top-eventNames .role-axis-label text').allTextContents();
      expect(labels.some((l) => l.startsWith('<script>alert'))).toBe(true);
      const firstRow = await page.locator('#top-eventNames tbody tr').first().locator('td').allTextContents();
      expect(firstRow).toEqual([HOSTILE, '12']);
      // The classifier section shows the trained run's numbers
      const model = await page.locator('#h-model + *').textContent();
      expect(model).toContain(trained.runId);
      expect(await page.locator('#h-model ~ ul.kpis .value').first().textContent()).toBe(`${(trained.metrics.accuracy * 100).toFixed(1)}%`);
      expect(await page.locator('script').count()).toBe(0);
      expect(watch.dialogs).toEqual([]);
      expect(watch.consoleErrors).toEqual([]);
      expect(watch.requests).toEqual([url]);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const { page, watch } = await openWatched(browser, pathToFileURL(built.indexLocation).href, { width: 390, height: 844 });
    try {
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
      expect(overflow).toBeLessThanOrEqual(0);
      const widest = (await page.evaluate(`Math.max(...[...document.querySelectorAll('svg.chart')].map((s) => s.getBoundingClientRect().right))`)) as number;
      expect(widest).toBeLessThanOrEqual(390);
      expect(watch.consoleErrors).toEqual([]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'report-phone.png'), fullPage: false });
    } finally {
      await page.close();
    }
  });
});
