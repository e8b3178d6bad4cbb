import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEtl } from '../../src/etl/run.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { loadReportData } from '../../src/report/load.ts';
import type { ReportData } from '../../src/report/types.ts';
import { REAL_CAPTURE, removeLake } from '../helpers/report-lake.ts';

/** The capture's figures, computed here straight from its lines (not through the ETL or stats). */
function captureFacts(text: string) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const newest = new Map<string, { mtime: number; category?: string; status: string }>();
  for (const line of lines) {
    let r: { id?: unknown; mtime?: number; status?: string; group?: { category?: { shortname?: string } } };
    try {
      r = JSON.parse(line);
    } catch {
      continue; // the cut-off last line
    }
    const id = String(r.id);
    const seen = newest.get(id);
    if (!seen || (r.mtime ?? 0) >= seen.mtime) newest.set(id, { mtime: r.mtime ?? 0, category: r.group?.category?.shortname, status: r.status ?? '' });
  }
  const tally = (key: 'category' | 'status') => {
    const counts = new Map<string, number>();
    for (const e of newest.values()) if (e[key]) counts.set(e[key]!, (counts.get(e[key]!) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  };
  return { records: lines.length, unique: newest.size, categories: tally('category'), statuses: tally('status') };
}

describe('the report over the real capture', () => {
  let root: string;
  let data: ReportData;
  let facts: ReturnType<typeof captureFacts>;

  beforeAll(async () => {
    // Given the real capture as one raw object, processed by the real ETL
    root = await mkdtemp(path.join(os.tmpdir(), 'oe-report-capture-'));
    const store = new LocalStore(root);
    const bytes = await readFile(REAL_CAPTURE);
    facts = captureFacts(bytes.toString('utf8'));
    await store.put('raw/2015/03/08/14/capture-0-758.ndjson', bytes);
    await runEtl(store, { select: { all: true } });
    // When the report's data is loaded
    data = await loadReportData(store);
  });
  afterAll(async () => {
    await removeLake(new LocalStore(root), root);
  });

  it('counts every record received and each event once', () => {
    expect(facts.unique).toBe(519);
    expect(data.totals.eventsReceived).toBe(facts.records);
    expect(data.totals.uniqueEvents).toBe(facts.unique);
    expect(data.totals.quarantined).toBe(1); // the cut-off line
  });

  it('ranks categories and statuses by the newest version of each event', () => {
    expect(data.top.categories[0]?.count).toBe(facts.categories[0]?.[1]);
    expect(data.statusMix.map((s) => [s.label, s.count])).toEqual(facts.statuses);
  });
});
