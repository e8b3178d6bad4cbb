import { promises as fs } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Reads a local lake independently of the code under test: every raw object's lines (gunzipped
 * by magic bytes) and every quarantine entry, with plain fs, zlib and JSON.parse.
 */
export interface LakeLine {
  file: string;
  line: string;
  id: string;
  mtime: number;
}

async function walk(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out.sort();
}

/** The raw data files of a lake (not manifests, not hidden temporary names). */
export async function rawFiles(lake: string): Promise<string[]> {
  return (await walk(path.join(lake, 'raw'))).filter((f) => !path.basename(f).startsWith('_') && !path.basename(f).startsWith('.'));
}

/** Every line of the given raw files (all of them by default), parsed. */
export async function readRawLines(lake: string, files?: string[]): Promise<LakeLine[]> {
  const out: LakeLine[] = [];
  for (const file of files ?? (await rawFiles(lake))) {
    let bytes = await fs.readFile(file);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
    for (const line of bytes.toString('utf8').split('\n')) {
      if (line === '') continue;
      const { id, mtime } = JSON.parse(line) as { id: string; mtime: number };
      out.push({ file, line, id, mtime });
    }
  }
  return out;
}

/** Every quarantine entry of a lake. */
export async function readQuarantine(lake: string): Promise<Array<{ reason: string; bytes: string; length: number; truncated?: boolean }>> {
  const out = [];
  for (const file of await walk(path.join(lake, 'quarantine'))) {
    for (const line of (await fs.readFile(file, 'utf8')).split('\n')) {
      if (line !== '') out.push(JSON.parse(line) as { reason: string; bytes: string; length: number; truncated?: boolean });
    }
  }
  return out;
}

/** Counts of each value. */
export function tally<T>(values: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
