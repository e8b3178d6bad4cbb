import { promises as fs } from 'node:fs';
import path from 'node:path';
import { REPORTS } from '../lake/layout.ts';
import type { ObjectStore } from '../lake/store.ts';
import { loadReportData, type LoadReportOptions } from './load.ts';
import { renderReport } from './render.ts';

/** The Content-Type of a report page. */
export const HTML_CONTENT_TYPE = 'text/html; charset=utf-8';
/** The lake key of the copy that always holds the newest report. */
export const REPORT_INDEX_KEY = `${REPORTS}/index.html`;
/** Timestamped report keys: reports/YYYY-MM-DDTHHMMSSZ.html (sortable, no ':' for file systems and URLs). */
export const REPORT_KEY = /^reports\/\d{4}-\d{2}-\d{2}T\d{6}Z\.html$/;

/** The timestamped key of a report built at `at`. */
export function reportKey(at: Date): string {
  return `${REPORTS}/${at.toISOString().slice(0, 19).replaceAll(':', '')}Z.html`;
}

export interface BuildReportOptions extends LoadReportOptions {
  /** Also write a copy of the page into this folder (created if needed). */
  out?: string;
}

export interface BuildReportResult {
  /** Lake key of the timestamped report, and where it is (a file path, or an s3:// URL). */
  key: string;
  location: string;
  /** The same for reports/index.html. */
  indexKey: string;
  indexLocation: string;
  /** The --out copy, when asked for. */
  outFile?: string;
  bytes: number;
  durationMs: number;
  /** The covered hours and whether the classifier section has a model. */
  coveredFrom: string | null;
  coveredTo: string | null;
  hasModel: boolean;
}

/**
 * Builds the report from a lake and writes it to `reports/<timestamp>.html` and
 * `reports/index.html` in the lake (and to `out`, when given). Returns where it went.
 */
export async function buildReport(store: ObjectStore, options: BuildReportOptions = {}): Promise<BuildReportResult> {
  const started = performance.now();
  const now = options.now ?? (() => new Date());
  const at = now();
  const data = await loadReportData(store, { ...options, now: () => at });
  const page = Buffer.from(await renderReport(data), 'utf8');
  const key = reportKey(at);
  await store.put(key, page, { contentType: HTML_CONTENT_TYPE });
  await store.put(REPORT_INDEX_KEY, page, { contentType: HTML_CONTENT_TYPE });
  let outFile: string | undefined;
  if (options.out) {
    await fs.mkdir(options.out, { recursive: true });
    outFile = path.resolve(options.out, path.basename(key));
    await fs.writeFile(outFile, page);
  }
  return {
    key,
    location: locationOf(store, key),
    indexKey: REPORT_INDEX_KEY,
    indexLocation: locationOf(store, REPORT_INDEX_KEY),
    ...(outFile ? { outFile } : {}),
    bytes: page.byteLength,
    durationMs: Math.round(performance.now() - started),
    coveredFrom: data.coveredFrom,
    coveredTo: data.coveredTo,
    hasModel: data.model !== null,
  };
}

/** A key as the user can open it: a local file path, or the object's s3:// URL. */
export function locationOf(store: ObjectStore, key: string): string {
  return store.localPath(key) ?? `${store.url.replace(/\/?$/, '/')}${key}`;
}

/** The newest timestamped report in the lake, or undefined when none has been built. */
export async function newestReportKey(store: ObjectStore): Promise<string | undefined> {
  let newest: string | undefined;
  for await (const info of store.list(`${REPORTS}/`)) {
    if (REPORT_KEY.test(info.key) && (newest === undefined || info.key > newest)) newest = info.key;
  }
  return newest;
}
