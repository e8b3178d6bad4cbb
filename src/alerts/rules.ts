import { hourStartMs, type HourId } from '../lake/layout.ts';
import type { RetryEntry } from '../schedule/plan.ts';

/** The alert rules, each with its thresholds in config `alerts.*`. */
export const ALERT_RULES = ['stream-silent', 'stream-stalled', 'hour-late', 'hour-missing', 'hour-failed', 'job-failed', 'quarantine-rate', 'lander-lag'] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

/** A firing alert. Rule and subject identify it (the same problem evaluated twice is the same alert). */
export interface Alert {
  rule: AlertRule;
  /** What it is about: an hour or hour range, a job id, a component ('stream', 'land'). */
  subject: string;
  /** One line for the banner, the CLI and the ERROR telemetry record (may hold text from the lake: escape before a terminal). */
  message: string;
  /** Since when the condition holds, where known (ISO). */
  since?: string;
  /** Where to look or what to run next. */
  hint?: string;
}

/** The newest stats record of a component (`kind: 'stats'` telemetry). */
export interface ComponentStats {
  atMs: number;
  data: Record<string, unknown>;
}

/** One hour of the lookback window, as the lake and the ETL state have it. */
export interface HourFacts {
  hour: HourId;
  /** Raw data objects in the hour's folder. */
  files: number;
  /** Modification time of its newest raw object (0 without any). */
  newestMtimeMs: number;
  /** It has its `_manifest.json`. */
  closed: boolean;
  /** The ETL's record of its last run, if any. */
  etl?: {
    status: 'done' | 'failed';
    error?: string;
    startedAt: string;
    rawNewestMtimeMs: number;
    rawRecords: number;
    quarantined: number;
  };
}

/** What the rules read of a job record (local or EMR: src/jobs/types.ts JobRecord). */
export interface AlertJob {
  id: string;
  kind: string;
  label: string;
  state: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  reason?: string;
  logFile?: string;
  runner?: string;
  /** The work's identity (the same key = the same work run again). */
  key?: string;
  cluster?: { state: string };
  steps: Array<{ hour?: string; state?: string; logs?: string; failure?: { message?: string; logFile?: string } }>;
}

/** Everything the rules look at, gathered by facts.ts (or built by a test). */
export interface AlertFacts {
  nowMs: number;
  /** The hours of the lookback window, oldest first, ending with the current hour. */
  hours: HourFacts[];
  /** Newest stats of the streamer and of the lander within the lookback, if they wrote any. */
  stream?: ComponentStats;
  lander?: ComponentStats;
  /** Jobs created within the lookback, any runner, newest first. */
  jobs: AlertJob[];
  /** The scheduler's failed hours (retrying, or given up). */
  retries: Readonly<Record<HourId, RetryEntry>>;
}

/** The thresholds (config `alerts`, plus the hour grace of `stream.hourGraceMs`). */
export interface AlertThresholds {
  streamSilentMs: number;
  streamStalledMs: number;
  hourLateMs: number;
  quarantineRate: number;
  quarantineMinRecords: number;
  landerLagMs: number;
  /** An hour counts as over this long after it ended (config stream.hourGraceMs). */
  graceMs: number;
}

const HOUR_MS = 3_600_000;

/** Evaluates every rule; the firing alerts, in rule order, each rule's oldest subject first. */
export function evaluateAlerts(facts: AlertFacts, t: AlertThresholds): Alert[] {
  return [
    ...silent(facts, t),
    ...stalled(facts, t),
    ...lateHours(facts, t),
    ...missingHours(facts, t),
    ...failedHours(facts),
    ...failedJobs(facts),
    ...quarantine(facts, t),
    ...landerLag(facts, t),
  ];
}

/** stream-silent: a streamer or lander whose last stats are older than streamSilentMs, and that did not stop on purpose. */
function silent(f: AlertFacts, t: AlertThresholds): Alert[] {
  const out: Alert[] = [];
  for (const [subject, stats, what] of [['stream', f.stream, 'the streamer'], ['land', f.lander, 'the lander']] as const) {
    if (!stats || stats.data.state === 'stopped') continue;
    const quietMs = f.nowMs - stats.atMs;
    if (quietMs <= t.streamSilentMs) continue;
    out.push({
      rule: 'stream-silent',
      subject,
      message: `${what} has sent no stats for ${ago(quietMs)} (last at ${iso(stats.atMs)}, state ${String(stats.data.state ?? 'unknown')}): it died or cannot write telemetry`,
      since: iso(stats.atMs),
      hint: subject === 'stream' ? 'is the streamer running? (`openevents status`; restart it with `openevents stream` or the monitor\'s `s`)' : 'is the lander running? (`openevents land`)',
    });
  }
  return out;
}

/** stream-stalled: a running streamer whose last event is older than streamStalledMs. */
function stalled(f: AlertFacts, t: AlertThresholds): Alert[] {
  const s = f.stream;
  if (!s || s.data.state === 'stopped' || f.nowMs - s.atMs > t.streamSilentMs) return [];
  const age = typeof s.data.lastEventAgeMs === 'number' ? s.data.lastEventAgeMs + (f.nowMs - s.atMs) : undefined;
  if (age === undefined || age <= t.streamStalledMs) return [];
  return [
    {
      rule: 'stream-stalled',
      subject: 'stream',
      message: `the streamer is ${String(s.data.state ?? 'up')} but has received no event for ${ago(age)}`,
      since: iso(f.nowMs - age),
      hint: 'check the source (is it sending?) and the streamer\'s reconnects in its log',
    },
  ];
}

/** The scheduler is still retrying this hour (not given up). */
function retrying(f: AlertFacts, hour: HourId): boolean {
  const r = f.retries[hour];
  return r !== undefined && !r.gaveUp;
}

/** hour-late: raw data that no ETL has processed hourLateMs after its hour ended (or after it arrived, for data added later). */
function lateHours(f: AlertFacts, t: AlertThresholds): Alert[] {
  const out: Alert[] = [];
  for (const h of f.hours) {
    if (h.files === 0 || f.retries[h.hour] || h.etl?.status === 'failed') continue;
    const endedMs = hourStartMs(h.hour) + HOUR_MS;
    const pendingSinceMs = !h.etl ? endedMs : h.newestMtimeMs > h.etl.rawNewestMtimeMs ? Math.max(endedMs, h.newestMtimeMs) : undefined;
    if (pendingSinceMs === undefined || f.nowMs - pendingSinceMs <= t.hourLateMs) continue;
    const what = h.etl ? 'has raw data newer than its last ETL run' : `has ${h.files} raw object(s) but no ETL run${h.closed ? '' : ' (and no manifest: its writer has not closed it)'}`;
    out.push({
      rule: 'hour-late',
      subject: h.hour,
      message: `${h.hour} ${what}, ${ago(f.nowMs - pendingSinceMs)} after it ${h.etl ? 'arrived' : 'ended'}`,
      since: iso(pendingSinceMs),
      hint: 'is the scheduler running? (`openevents schedule`, or its systemd timer); or run `openevents etl --hour ' + h.hour + '`',
    });
  }
  return out;
}

/**
 * hour-missing: past hours without raw data after the first hour of the window that has some,
 * and before a later one that has some (or while the streamer runs): data should be there. A run
 * of such hours is one alert.
 */
function missingHours(f: AlertFacts, t: AlertThresholds): Alert[] {
  const withData = f.hours.filter((h) => h.files > 0).map((h) => h.hour);
  const first = withData[0];
  if (first === undefined) return [];
  const last = withData[withData.length - 1] as HourId;
  const streaming = f.stream !== undefined && f.stream.data.state !== 'stopped' && f.nowMs - f.stream.atMs <= t.streamSilentMs;
  const missing = f.hours
    .filter((h) => h.files === 0 && h.hour > first && hourStartMs(h.hour) + HOUR_MS + t.graceMs <= f.nowMs && (h.hour < last || streaming))
    .map((h) => h.hour);
  const runs: HourId[][] = [];
  for (const hour of missing) {
    const run = runs[runs.length - 1];
    if (run && hourStartMs(hour) - hourStartMs(run[run.length - 1] as HourId) === HOUR_MS) run.push(hour);
    else runs.push([hour]);
  }
  return runs.map((run) => {
    const subject = run.length === 1 ? (run[0] as HourId) : `${run[0]}…${run[run.length - 1]}`;
    return {
      rule: 'hour-missing',
      subject,
      message: run.length === 1 ? `${run[0]} has no raw data, though hours around it have some` : `${run.length} hours have no raw data: ${run[0]} … ${run[run.length - 1]}`,
      since: iso(hourStartMs(run[0] as HourId)),
      hint: 'was the streamer (or lander) down then? Its log says; `openevents lake import` brings an archive in',
    };
  });
}

/** hour-failed: an hour whose last ETL run failed and that nobody is retrying, or that the scheduler gave up on. */
function failedHours(f: AlertFacts): Alert[] {
  const out: Alert[] = [];
  const hours = new Set([...f.hours.map((h) => h.hour), ...Object.keys(f.retries)]);
  const byHour = new Map(f.hours.map((h) => [h.hour, h]));
  for (const hour of [...hours].sort()) {
    const retry = f.retries[hour];
    const etl = byHour.get(hour)?.etl;
    const gaveUp = retry?.gaveUp === true;
    if (!gaveUp && !(etl?.status === 'failed' && !retrying(f, hour))) continue;
    const error = (gaveUp ? retry.error : etl?.error) ?? 'unknown error';
    out.push({
      rule: 'hour-failed',
      subject: hour,
      message: `${hour} failed${gaveUp ? ` ${retry.attempts} times; the scheduler gave up on it` : ''}: ${error}`,
      ...(gaveUp ? { since: iso(retry.lastAttemptAtMs) } : etl ? { since: etl.startedAt } : {}),
      hint: `fix the cause, then \`openevents etl --hour ${hour}\` (the scheduler also retries it once its raw data changes)`,
    });
  }
  return out;
}

/**
 * job-failed: the newest job of each kind of work (its key, else kind and label) failed, and the
 * ETL did not record its hours itself (those are judged by hour-failed). A scheduled run is judged
 * by its hours, never as a job: its failures are retried first.
 */
function failedJobs(f: AlertFacts): Alert[] {
  const newest = new Map<string, AlertJob>();
  for (const job of f.jobs) {
    if (job.kind === 'schedule') continue;
    const identity = job.key ?? `${job.kind}|${job.label}`;
    const seen = newest.get(identity);
    if (!seen || job.createdAt > seen.createdAt) newest.set(identity, job);
  }
  const byHour = new Map(f.hours.map((h) => [h.hour, h]));
  const out: Alert[] = [];
  for (const job of newest.values()) {
    if (job.state !== 'failed') continue;
    // The hours of the steps that failed (all steps when none is marked): an ml or report step that
    // failed is not made good by a later ETL of the hour its ETL step processed.
    const failedSteps = job.steps.filter((s) => s.state === 'failed');
    const hours = [...new Set((failedSteps.length > 0 ? failedSteps : job.steps).map((s) => s.hour).filter((h): h is HourId => h !== undefined))];
    const started = job.startedAt ?? job.createdAt;
    if (hours.length > 0 && hours.every((h) => { const etl = byHour.get(h)?.etl; return etl !== undefined && etl.startedAt >= started; })) continue;
    const emr = job.runner === 'emr';
    const step = job.steps.find((s) => s.state === 'failed');
    const detail = [job.reason, step?.failure?.message && !job.reason?.includes(step.failure.message) ? step.failure.message : undefined].filter(Boolean).join(' — ');
    const log = step?.failure?.logFile ?? step?.logs ?? job.logFile;
    out.push({
      rule: 'job-failed',
      subject: job.id,
      message: `${emr ? `EMR cluster ${job.id}` : `job ${job.id}`} (${job.label}) failed${job.cluster ? ` [${job.cluster.state}]` : ''}: ${detail || 'no reason recorded'}${log ? ` (log: ${log})` : ''}`,
      ...(job.endedAt ? { since: job.endedAt } : {}),
      hint: emr ? `\`openevents emr status ${job.id}\` and \`openevents emr logs ${job.id}\`` : 'its log is in the Jobs pane of `openevents monitor` (or the log file named)',
    });
  }
  return out.sort((a, b) => ((a.since ?? '') < (b.since ?? '') ? -1 : 1));
}

/** quarantine-rate: an hour whose ETL quarantined more than `quarantineRate` of at least `quarantineMinRecords` records. */
function quarantine(f: AlertFacts, t: AlertThresholds): Alert[] {
  const out: Alert[] = [];
  for (const h of f.hours) {
    const e = h.etl;
    if (e?.status !== 'done' || e.rawRecords < t.quarantineMinRecords) continue;
    const rate = e.quarantined / e.rawRecords;
    if (rate <= t.quarantineRate) continue;
    out.push({
      rule: 'quarantine-rate',
      subject: h.hour,
      message: `${h.hour}: ${percent(rate)} of ${e.rawRecords} records quarantined (${e.quarantined}; bound ${percent(t.quarantineRate)})`,
      since: e.startedAt,
      hint: 'see why in the quarantine table: `openevents query "SELECT reason, count(*) FROM quarantine GROUP BY 1"`',
    });
  }
  return out;
}

/** lander-lag: the lander, writing stats, trails its Kinesis stream by more than landerLagMs. */
function landerLag(f: AlertFacts, t: AlertThresholds): Alert[] {
  const l = f.lander;
  if (!l || l.data.state === 'stopped' || f.nowMs - l.atMs > t.streamSilentMs) return [];
  const lag = l.data.lagMs;
  if (typeof lag !== 'number' || lag <= t.landerLagMs) return [];
  const stream = typeof l.data.stream === 'string' ? ` stream ${l.data.stream}` : ' its stream';
  return [
    {
      rule: 'lander-lag',
      subject: 'land',
      message: `the lander trails${stream} by ${ago(lag)} (bound ${ago(t.landerLagMs)})`,
      since: iso(l.atMs - lag),
      hint: 'more shards or more landers, or is the lake (S3) slow? The lander\'s log says',
    },
  ];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function percent(x: number): string {
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

/** A duration in the largest unit that fits: 45 s, 12 min, 3 h 5 min. */
export function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}
