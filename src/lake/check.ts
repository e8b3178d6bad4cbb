import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.ts';
import { checkCurated } from '../etl/check.ts';
import { runEtl } from '../etl/run.ts';
import { ETL_LAST_RUN, type EtlHourState } from '../etl/state.ts';
import { unreadable } from './import.ts';
import { STATE, hourOfKey, isHourId, manifestKey, rawHourPrefix, type HourId, type HourManifest } from './layout.ts';
import { closeHour, hourIsDue, isRawDataKey } from './manifest.ts';
import { countRecords } from './records.ts';
import type { ObjectStore } from './store.ts';

/** Everything `lake check` can find; each kind has one meaning, one severity and one repair. */
export type FindingKind =
  | 'raw-unreadable'
  | 'raw-missing'
  | 'raw-count-mismatch'
  | 'manifest-corrupt'
  | 'manifest-missing'
  | 'state-corrupt'
  | 'etl-failed'
  | 'curated-incomplete'
  | 'curated-missing'
  | 'curated-unreadable'
  | 'curated-mismatch'
  | 'stray-temp';

export interface Finding {
  kind: FindingKind;
  /** An error is damage; a warning is something left undone (a hour never closed, a temporary file). */
  severity: 'error' | 'warning';
  /** The object or folder concerned, relative to the lake. */
  key: string;
  hour?: HourId;
  /** Every hour concerned, when more than one (a curated file holds many). */
  hours?: HourId[];
  /** What is wrong. */
  message: string;
  /** What `--repair` does about it; absent when nothing rebuilt from raw data can mend it (then `remedy` says what can). */
  repair?: string;
  /** What the operator can do when no repair can. */
  remedy?: string;
  /** Set by `--repair`: whether the finding is gone afterwards. */
  repaired?: boolean;
  /** Set by `--repair` when the repair itself failed, and why. */
  repairError?: string;
}

export interface CheckReport {
  /** The lake's folder, or its s3:// URL. */
  lake: string;
  /** True when nothing is (left) wrong. */
  ok: boolean;
  checked: { rawHours: number; rawFiles: number; records: number; manifests: number; etlStates: number; curatedFiles: number };
  findings: Finding[];
}

export interface CheckOptions {
  /** Mend what can be rebuilt from the raw data (never deletes raw data). */
  repair?: boolean;
  /** The clock (ms), for which hours are due a manifest. */
  now?: number;
  /** An hour is closed (has a manifest) this long after it ends (config stream.hourGraceMs). */
  hourGraceMs?: number;
  /** Called as each raw hour has been read, for progress on a large lake. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Verifies a lake like fsck: every raw file reads whole (gzip integrity) and holds the records its
 * manifest lists; every listed file exists; every closed hour has a manifest; every state and
 * manifest JSON parses; the curated tables match what the ETL recorded (etl/check.ts); no
 * temporary file of a dead process is left. With `repair`, it then removes stray temporaries,
 * rebuilds manifests from the raw files, runs the ETL again for hours whose curated data or
 * state is damaged (when their raw data is intact), and checks again: each finding says
 * whether it was repaired. Raw data is never deleted or rewritten.
 */
export async function checkLake(store: ObjectStore, options: CheckOptions = {}): Promise<CheckReport> {
  const first = await scan(store, options);
  if (!options.repair || first.findings.every((f) => f.repair === undefined)) return first;
  const failures = await repair(store, first.findings, options);
  const second = await scan(store, { ...options, onProgress: undefined });
  const left = new Set(second.findings.map(identity));
  const findings = first.findings.map((f) => {
    const failure = failures.get(identity(f));
    return { ...f, repaired: !left.has(identity(f)), ...(failure ? { repairError: failure } : {}) };
  });
  const known = new Set(first.findings.map(identity));
  for (const f of second.findings) if (!known.has(identity(f))) findings.push({ ...f, repaired: false });
  return { ...second, findings, ok: findings.every((f) => f.repaired) };
}

const identity = (f: Finding): string => `${f.kind}\t${f.key}`;

const ETL_REPAIR = 'run the ETL for the hour again';

async function scan(store: ObjectStore, options: CheckOptions): Promise<CheckReport> {
  const now = options.now ?? Date.now();
  const graceMs = options.hourGraceMs ?? 5 * 60_000;
  const findings: Finding[] = [];
  const checked = { rawHours: 0, rawFiles: 0, records: 0, manifests: 0, etlStates: 0, curatedFiles: 0 };

  // Raw hours: the files directly in each hour's folder, and its manifest.
  const hours = new Map<HourId, { files: Map<string, number>; newestMs: number; manifest: boolean }>();
  for await (const info of store.list('raw/')) {
    const hour = hourOfKey(info.key);
    if (!hour || !info.key.startsWith(rawHourPrefix(hour)) || info.key.slice(rawHourPrefix(hour).length).includes('/')) continue;
    const entry = hours.get(hour) ?? { files: new Map<string, number>(), newestMs: 0, manifest: false };
    hours.set(hour, entry);
    if (info.key === manifestKey(hour)) entry.manifest = true;
    else if (isRawDataKey(info.key)) {
      entry.files.set(info.key, info.size);
      entry.newestMs = Math.max(entry.newestMs, info.mtimeMs);
    }
  }
  // Hours whose raw data is damaged (an ETL rerun would lose records) or unreadable (no manifest can be counted).
  const damagedRaw = new Set<HourId>();
  const unreadableRaw = new Set<HourId>();
  const manifests = new Map<HourId, HourManifest>();
  let done = 0;
  for (const [hour, entry] of [...hours].sort(([a], [b]) => (a < b ? -1 : 1))) {
    checked.rawHours++;
    const counts = new Map<string, number>();
    for (const key of entry.files.keys()) {
      checked.rawFiles++;
      const bytes = await store.get(key);
      if (!bytes) continue; // deleted since the listing
      try {
        const n = await countRecords(bytes);
        counts.set(key, n);
        checked.records += n;
      } catch (error) {
        damagedRaw.add(hour);
        unreadableRaw.add(hour);
        findings.push({
          kind: 'raw-unreadable',
          severity: 'error',
          key,
          hour,
          message: unreadable(error),
          remedy: 'restore the file from a copy (an S3 version, the Firehose bucket) or import its source again; it is never deleted',
        });
      }
    }
    if (entry.manifest) {
      const manifest = await readJson<HourManifest>(store, manifestKey(hour));
      if (!manifest.ok || !Array.isArray(manifest.value?.files)) {
        findings.push({
          kind: 'manifest-corrupt',
          severity: 'error',
          key: manifestKey(hour),
          hour,
          message: `does not parse as a manifest${manifest.ok ? ' (no files list)' : `: ${manifest.error}`}`,
          repair: 'rebuild it from the raw files of the hour',
        });
      } else {
        checked.manifests++;
        manifests.set(hour, manifest.value);
        for (const listed of manifest.value.files) {
          if (!entry.files.has(listed.key)) {
            damagedRaw.add(hour);
            findings.push({
              kind: 'raw-missing',
              severity: 'error',
              key: listed.key,
              hour,
              message: `listed in the manifest but not in the lake (${listed.records} records lost)`,
              remedy: `restore it from a copy, then \`openevents etl --hour ${hour}\``,
            });
            continue;
          }
          const actual = counts.get(listed.key);
          if (actual !== undefined && actual !== listed.records) {
            damagedRaw.add(hour);
            findings.push({
              kind: 'raw-count-mismatch',
              severity: 'error',
              key: listed.key,
              hour,
              message: `holds ${actual} records, the manifest says ${listed.records}: the file changed after the hour was closed`,
              remedy: `restore the file from a copy, then \`openevents etl --hour ${hour}\`; if it is right as it is, \`openevents lake check --repair\` cannot know — close the hour again by hand`,
            });
          }
        }
      }
    } else if (hourIsDue(hour, now, graceMs)) {
      findings.push({
        kind: 'manifest-missing',
        severity: 'warning',
        key: manifestKey(hour),
        hour,
        message: 'the hour is over but was never closed (no manifest)',
        repair: 'close the hour: write its manifest from the raw files',
      });
    }
    options.onProgress?.(++done, hours.size);
  }

  // State: every JSON under _state/ parses; the ETL's hour states (one document per month, or a
  // record per hour from earlier versions) are checked against the raw data.
  const states: Array<{ state: EtlHourState; key: string }> = [];
  for await (const info of store.list(`${STATE}/`)) {
    if (!info.key.endsWith('.json') || !isRawDataKey(info.key)) continue;
    const parsed = await readJson<EtlHourState & { hours?: Record<HourId, EtlHourState> }>(store, info.key);
    const name = /^_state\/etl\/hours\/(.+)\.json$/.exec(info.key)?.[1];
    const etlHour = name !== undefined && isHourId(name) ? name : undefined;
    const etlMonth = name !== undefined && /^\d{4}-\d{2}$/.test(name) ? name : undefined;
    if (!parsed.ok) {
      findings.push({
        kind: 'state-corrupt',
        severity: 'error',
        key: info.key,
        ...(etlHour ? { hour: etlHour } : {}),
        message: `does not parse: ${parsed.error}`,
        ...(etlHour
          ? { repair: ETL_REPAIR }
          : info.key === ETL_LAST_RUN || etlMonth
            ? { repair: etlMonth ? `remove it (the month's hours are then pending: \`openevents etl\` processes them again)` : 'remove it (the next etl run writes it again)' }
            : { remedy: 'move it aside; the component that wrote it starts afresh (a stream checkpoint: the next streamer resumes from the lake)' }),
      });
      continue;
    }
    const found = etlMonth ? Object.values(parsed.value?.hours ?? {}) : etlHour && parsed.value?.hour === etlHour ? [parsed.value] : [];
    for (const state of found) states.push({ state, key: info.key });
  }
  for (const { state, key } of states) {
    const hour = state.hour;
    checked.etlStates++;
    if (state.status === 'failed') {
      findings.push({ kind: 'etl-failed', severity: 'warning', key, hour, message: `the last ETL run of ${hour} failed: ${state.error ?? 'no reason recorded'}`, repair: ETL_REPAIR });
    }
    const manifest = manifests.get(hour);
    const raw = hours.get(hour);
    // Raw data that arrived after the run makes the hour pending, not damaged: the next etl takes it.
    const stale = !raw || raw.files.size !== state.rawObjects || raw.newestMs > state.rawNewestMtimeMs;
    if (state.status === 'done' && manifest && !stale && state.rawRecords < manifest.records) {
      findings.push({
        kind: 'curated-incomplete',
        severity: 'error',
        key,
        hour,
        message: `the ETL read ${state.rawRecords} records of the ${manifest.records} the manifest lists`,
        repair: ETL_REPAIR,
      });
    }
  }

  const curated = await checkCurated(store, states.map((s) => s.state));
  checked.curatedFiles = curated.files;
  for (const f of curated.findings) {
    findings.push(
      f.hour === undefined
        ? { ...f, severity: 'error', remedy: 'move curated/ aside and run `openevents etl --all`: the tables are rebuilt from raw' }
        : { ...f, severity: 'error', repair: ETL_REPAIR },
    );
  }

  findings.push(...(await strayTemps(store)));

  // An ETL rerun over damaged raw data would make its curated hour worse, not better; a
  // manifest cannot be counted from a file that cannot be read.
  for (const f of findings) {
    const etl = f.repair === ETL_REPAIR && damagedRaw.has(f.hour!);
    const manifest = (f.kind === 'manifest-corrupt' || f.kind === 'manifest-missing') && unreadableRaw.has(f.hour!);
    if (!etl && !manifest) continue;
    delete f.repair;
    f.remedy = `restore the hour's raw files first (see above), then \`openevents ${etl ? `etl --hour ${f.hour}` : 'lake check --repair'}\``;
  }
  return { lake: store.localPath('') ?? store.url, ok: findings.length === 0, checked, findings };
}

async function readJson<T>(store: ObjectStore, key: string): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  const bytes = await store.get(key);
  try {
    return { ok: true, value: JSON.parse(Buffer.from(bytes ?? []).toString('utf8')) as T };
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
}

/**
 * Temporary files and folders of processes that are gone: a LocalStore write's
 * `.<name>.<pid>.<hex>.tmp` (and a DuckDB `.tmp.wal`) anywhere, an ETL's `.etl-<pid>-<hex>/`
 * scratch folder. A live process's are left alone. Only a local lake has them (S3 PUTs are atomic).
 */
async function strayTemps(store: ObjectStore): Promise<Finding[]> {
  const root = store.localPath('');
  if (root === undefined) return [];
  const out: Finding[] = [];
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const rel = path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    const temp = e.isFile() ? /^\..*\.(\d+)\.[0-9a-f]+\.tmp(\.wal)?$/.exec(e.name) : undefined;
    // An ETL's scratch folder: .etl-<host>-<pid>-<hex> (.etl-<pid>-<hex> in earlier versions).
    const scratch = e.isDirectory() && !rel.includes('/') ? /^\.etl-(?:.+-)?(\d+)-[0-9a-f]+$/.exec(e.name) : undefined;
    const match = temp ?? scratch;
    if (!match || alive(Number(match[1]))) continue;
    out.push({
      kind: 'stray-temp',
      severity: 'warning',
      key: scratch ? `${rel}/` : rel,
      message: `left by process ${match[1]}, which is gone (a write or an ETL run cut short)`,
      repair: 'remove it',
    });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Applies the repairs of the findings — temporaries, then manifests, then ETL reruns (which read
 * the manifests) — and returns why any of them failed, by finding. A failed repair stops nothing:
 * the check that follows shows what is left.
 */
async function repair(store: ObjectStore, findings: readonly Finding[], options: CheckOptions): Promise<Map<string, string>> {
  const now = options.now ?? Date.now();
  const failures = new Map<string, string>();
  const attempt = async (targets: readonly Finding[], action: () => Promise<void>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      for (const f of targets) failures.set(identity(f), errorMessage(error));
    }
  };
  const todo = findings.filter((f) => f.repair !== undefined);
  const root = store.localPath('');
  for (const f of todo.filter((f) => f.kind === 'stray-temp')) {
    if (root) await attempt([f], () => fs.rm(path.join(root, ...f.key.split('/')), { recursive: true, force: true }));
  }
  for (const f of todo.filter((f) => f.kind === 'state-corrupt' && f.hour === undefined)) await attempt([f], () => store.delete(f.key));
  const closes = todo.filter((f) => f.kind === 'manifest-corrupt' || f.kind === 'manifest-missing');
  for (const f of closes) {
    await attempt([f], async () => {
      // A corrupt manifest cannot lend its counts: it goes first, so every file is counted afresh.
      if (f.kind === 'manifest-corrupt') await store.delete(f.key);
      await closeHour(store, f.hour!, now);
    });
  }
  const reruns = todo.filter((f) => f.repair === ETL_REPAIR);
  const hours = [...new Set(reruns.flatMap((f) => f.hours ?? [f.hour!]))].sort();
  if (hours.length > 0) await attempt(reruns, async () => void (await runEtl(store, { select: { hours } })));
  return failures;
}
