import { errorMessage } from '../../errors.ts';
import type { TelemetryRecord } from '../../telemetry/telemetry.ts';
import { sanitize } from '../../text.ts';
import { PartialFetchError } from './snapshot.ts';
import type { PaneSource } from './sources.ts';
import type { TelemetryHub } from './telemetry-feed.ts';
import type { LanderView, StreamSample, StreamState, StreamView } from './types.ts';

/** The streamer's stats record data, as it writes it (see the team brief). */
interface StreamStatsData {
  eventsPerSec?: unknown;
  bytesPerSec?: unknown;
  events?: unknown;
  durable?: unknown;
  bytes?: unknown;
  reconnects?: unknown;
  invalid?: unknown;
  duplicates?: unknown;
  lastEventAgeMs?: unknown;
  state?: unknown;
}

export interface StreamSourceOptions {
  /** Telemetry records (shared with the logs pane). */
  hub: TelemetryHub;
  /** The running local streamer job, if any (undefined on aws until the EC2 streamer lands). */
  streamerJob?: () => Promise<{ id: string } | undefined>;
  /** The streamer's EC2 instance, where it runs on one (aws). */
  host?: () => Promise<StreamView['host'] | undefined>;
  /** The Kinesis stream's shards (aws). */
  kinesis?: () => Promise<NonNullable<StreamView['kinesis']>>;
  /** How much events/s history to keep for the sparkline. */
  historyMs?: number;
  /** The streamer writes stats this often; three missed intervals make its last state doubtful. */
  statsIntervalMs?: number;
  /** How late a record can reach the monitor (CloudWatch Logs: shipping, ingestion, the poll interval); added to the silence allowed. */
  telemetryDelayMs?: number;
  now?: () => number;
}

/**
 * The Stream pane's source: the newest `stats` record of component `stream` plus an events/s
 * history, fed from the telemetry feed. Records are validated field by field: a bad or
 * partial record never breaks the pane, it just leaves fields unknown.
 */
export class StreamSource implements PaneSource<StreamView> {
  private latest: { atMs: number; data: StreamStatsData } | undefined;
  private lander: { atMs: number; data: Record<string, unknown> } | undefined;
  private history: StreamSample[] = [];
  private readonly historyMs: number;
  private readonly statsIntervalMs: number;
  /** Silence longer than this (three stats intervals and the telemetry's delay) makes a streamer's last state doubtful. */
  private readonly quietMs: number;
  private readonly now: () => number;

  constructor(private readonly options: StreamSourceOptions) {
    this.historyMs = options.historyMs ?? 10 * 60_000;
    this.statsIntervalMs = options.statsIntervalMs ?? 5_000;
    this.quietMs = 3 * this.statsIntervalMs + (options.telemetryDelayMs ?? 0);
    this.now = options.now ?? Date.now;
    options.hub.subscribe((records) => this.ingest(records));
  }

  private ingest(records: readonly TelemetryRecord[]): void {
    for (const record of records) {
      if (record.kind !== 'stats' || !record.data || (record.component !== 'stream' && record.component !== 'land')) continue;
      const atMs = Date.parse(record.ts);
      if (!Number.isFinite(atMs)) continue;
      if (record.component === 'land') {
        if (!this.lander || atMs >= this.lander.atMs) this.lander = { atMs, data: record.data as Record<string, unknown> };
        continue;
      }
      const data = record.data as StreamStatsData;
      if (!this.latest || atMs >= this.latest.atMs) this.latest = { atMs, data };
      const eps = num(data.eventsPerSec);
      if (eps !== undefined) this.history.push({ atMs, eventsPerSec: eps });
    }
    const cutoff = this.now() - this.historyMs;
    this.history.sort((a, b) => a.atMs - b.atMs);
    const first = this.history.findIndex((s) => s.atMs >= cutoff);
    this.history = first < 0 ? [] : this.history.slice(first);
  }

  /**
   * Telemetry first (its failure fails the pane); the streamer's instance and the Kinesis shards
   * beside it: when one of those fails, the rest is shown, marked stale with why.
   */
  async fetch(): Promise<StreamView> {
    const o = this.options;
    const problems: string[] = [];
    const extra = <T>(what: string, read: (() => Promise<T>) | undefined): Promise<T | undefined> =>
      read ? read().catch((error: unknown) => void problems.push(`${what}: ${errorMessage(error)}`)) : Promise.resolve(undefined);
    const [, job, host, kinesis] = await Promise.all([o.hub.sync(), o.streamerJob?.(), extra('ec2', o.host), extra('kinesis', o.kinesis)]);
    const view = this.view(job?.id);
    if (host) view.host = { id: sanitize(host.id, 40), state: sanitize(host.state, 20) };
    if (kinesis) view.kinesis = { ...kinesis, stream: sanitize(kinesis.stream, 128) };
    if (problems.length) throw new PartialFetchError(view, problems.join('; '));
    return view;
  }

  /** Records the running streamer holds that are in no object yet (for the Lake pane's open hour). */
  async inFlight(): Promise<number | undefined> {
    await this.options.hub.sync();
    return this.view(undefined).inFlight;
  }

  private landerView(now: number): LanderView | undefined {
    const latest = this.lander;
    if (!latest) return undefined;
    const d = latest.data;
    const quiet = now - latest.atMs > this.quietMs;
    const reported = d.state === 'running' || d.state === 'stopped' ? d.state : 'unknown';
    return {
      state: quiet && reported === 'running' ? 'unknown' : reported,
      statsAtMs: latest.atMs,
      ...defined({ recordsPerSec: num(d.recordsPerSec), records: num(d.records), lagMs: num(d.lagMs), shards: Array.isArray(d.shards) ? d.shards.length : undefined }),
      ...(quiet ? { quiet: true } : {}),
    };
  }

  private view(jobId: string | undefined): StreamView {
    const now = this.now();
    const lander = this.landerView(now);
    const view: StreamView = { state: 'unknown', history: [...this.history], ...(jobId ? { jobId } : {}), ...(lander ? { lander } : {}) };
    const latest = this.latest;
    if (!latest) {
      view.state = jobId ? 'starting' : 'stopped';
      view.note = jobId ? 'streamer started, no stats yet' : 'no stream stats yet';
      return view;
    }
    const d = latest.data;
    Object.assign(
      view,
      defined({
        eventsPerSec: num(d.eventsPerSec),
        bytesPerSec: num(d.bytesPerSec),
        events: num(d.events),
        bytes: num(d.bytes),
        reconnects: num(d.reconnects),
        invalid: num(d.invalid),
        duplicates: num(d.duplicates),
        statsAtMs: latest.atMs,
      }),
    );
    const reported = state(d.state);
    const age = num(d.lastEventAgeMs);
    // Kept as of the record, so the model only changes when a record arrives (see lagMs).
    if (age !== undefined) view.lastEventAgeMs = age;
    const silentMs = now - latest.atMs;
    if (reported === 'stopped') {
      view.state = jobId ? 'starting' : 'stopped';
      // The final record's rate is the run's average; a stopped streamer moves nothing now.
      if (!jobId) view.eventsPerSec = 0;
    } else if (silentMs > this.quietMs) {
      // No stats for three intervals: the streamer died without saying so, or was stopped.
      view.state = jobId ? 'unknown' : 'stopped';
      view.quiet = true;
      view.eventsPerSec = 0;
    } else {
      view.state = reported ?? 'unknown';
      // Accepted but not durable yet: the records of the open raw file (or on their way to Kinesis).
      const events = num(d.events);
      const durable = num(d.durable);
      if (events !== undefined && durable !== undefined && events > durable) view.inFlight = events - durable;
    }
    return view;
  }
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function state(value: unknown): StreamState | undefined {
  return value === 'running' || value === 'reconnecting' || value === 'stopped' ? value : undefined;
}

function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
