import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { hourIdOf, hoursBetween, type HourId } from '../lake/layout.ts';
import { closeDueHours, closeHour, hourIsDue, rawHoursPresent } from '../lake/manifest.ts';
import { RawWriter } from '../lake/raw-writer.ts';
import { decodeObject, splitRecords } from '../lake/records.ts';
import type { ObjectStore } from '../lake/store.ts';
import { rawHourPrefix } from '../lake/layout.ts';
import { validateLine } from './contract.ts';
import type { Sink, SinkBatch, SinkContext, SinkRecovery, SinkRejection } from './sink.ts';

/** When to publish the open raw file and close hours (config `stream.*`). */
export interface LakeSinkSettings {
  /** Publish the open file at this compressed size ... */
  rotateBytes: number;
  /** ... or at this age. */
  rotateAgeMs: number;
  /** Close an hour (its _manifest.json) this long after it ended. */
  hourGraceMs: number;
}

/** The lake sink's part of the checkpoint. */
export interface LakeSinkState {
  /** The arrival hour of the newest published file (where a crash's unrecorded files can start). */
  lastHour: HourId | null;
  /** Hours this writer wrote to that have no manifest yet, with its files' record counts. */
  openHours: Record<HourId, Array<{ key: string; records: number }>>;
}

/**
 * The lake sink: accepted records go to raw files, `raw/YYYY/MM/DD/HH/<writer>-<first>-<last>.ndjson.gz`
 * by arrival hour (see RawWriter), published when a file reaches `rotateBytes` or `rotateAgeMs`,
 * when the hour changes, and on flush; a record is durable once its file is published. Hours are
 * closed with a manifest `hourGraceMs` after they end. Files published after the last checkpoint
 * (a crash in between) are found again by name at open and reported as recovered, so their
 * records are neither lost nor written twice.
 */
export class LakeSink implements Sink {
  readonly kind = 'lake';
  readonly target: string;
  private readonly raw: RawWriter;
  private ctx!: SinkContext;
  private durable = 0;
  private state_: LakeSinkState = { lastHour: null, openHours: {} };

  constructor(
    private readonly store: ObjectStore,
    private readonly writer: string,
    private readonly settings: LakeSinkSettings,
    /** Folder for files being written; default: `_state/stream/tmp` in a local lake, else a folder of the OS temp folder for this lake. */
    tmpDir?: string,
  ) {
    this.target = store.url;
    const remoteTmp = path.join(os.tmpdir(), 'openevents-stream', createHash('sha256').update(store.url).digest('hex').slice(0, 12));
    this.raw = new RawWriter(store, writer, tmpDir ?? store.localPath('_state/stream/tmp') ?? remoteTmp);
  }

  async open(context: SinkContext): Promise<SinkRecovery> {
    this.ctx = context;
    this.durable = context.checkpointedThrough;
    const saved = context.state as Partial<LakeSinkState> | undefined;
    this.state_ = { lastHour: saved?.lastHour ?? null, openHours: saved?.openHours ?? {} };
    const removed = await this.raw.cleanTemp();
    const recovered = await this.recoverFiles(context.now());
    if (recovered.files > 0 || removed > 0) {
      context.notice(
        'recovered',
        `recovered after an unclean stop: ${recovered.files} files published after the last checkpoint, ${removed} temporary files removed`,
      );
    }
    // Hours anyone left open (an import, a crashed writer) are closed once due.
    await closeDueHours(this.store, context.now(), this.settings.hourGraceMs);
    await this.closeDue(context.now());
    return { durableThrough: this.durable, recovered: recovered.records };
  }

  async write(batch: SinkBatch): Promise<void> {
    const open = this.raw.current;
    if (open && open.hour !== batch.hour) await this.publish();
    await this.raw.write(batch.hour, batch.first, batch.last, batch.data, batch.arrivedAtMs, batch.release);
    if ((this.raw.current?.compressedBytes ?? 0) >= this.settings.rotateBytes) await this.publish();
  }

  durableThrough(): number {
    return this.durable;
  }

  takeRejected(): SinkRejection[] {
    return []; // a lake takes any record the streamer accepted
  }

  async tick(nowMs: number): Promise<void> {
    const open = this.raw.current;
    if (open && (nowMs - open.openedAtMs >= this.settings.rotateAgeMs || open.hour !== hourIdOf(nowMs))) await this.publish();
    await this.closeDue(nowMs);
  }

  async flush(): Promise<void> {
    await this.publish();
  }

  state(): LakeSinkState {
    return this.state_;
  }

  async close(): Promise<void> {
    await this.publish();
    await this.closeDue(this.ctx.now());
  }

  async abort(): Promise<void> {
    await this.raw.discard();
  }

  /** Publishes the open file (if any): its records become durable. */
  private async publish(): Promise<void> {
    if (!this.raw.current) return;
    await this.ctx.beforePublish();
    const file = await this.raw.close();
    if (!file) return;
    (this.state_.openHours[file.hour] ??= []).push({ key: file.key, records: file.records });
    this.state_.lastHour = file.hour;
    this.durable = file.last;
    this.ctx.notice('file', `wrote ${file.key} (${file.records} records, ${file.bytes} bytes)`);
  }

  /** Closes the hours this writer wrote to that are due (never the one it is writing). */
  private async closeDue(nowMs: number): Promise<void> {
    for (const hour of Object.keys(this.state_.openHours).sort()) {
      if (!hourIsDue(hour, nowMs, this.settings.hourGraceMs) || this.raw.current?.hour === hour) continue;
      const known = new Map((this.state_.openHours[hour] ?? []).map((f) => [f.key, f.records]));
      const manifest = await closeHour(this.store, hour, nowMs, known);
      delete this.state_.openHours[hour];
      this.ctx.notice('hour-closed', `closed hour ${hour}: ${manifest.files.length} files, ${manifest.records} records`);
    }
  }

  /** Finds this writer's files published after the checkpoint (by name: first sequence beyond it). */
  private async recoverFiles(nowMs: number): Promise<{ files: number; records: Array<{ id: string; mtime: number }> }> {
    const hours = this.state_.lastHour ? hoursBetween(this.state_.lastHour, hourIdOf(nowMs)) : await rawHoursPresent(this.store);
    const escaped = this.writer.replace(/[-]/g, '\\-');
    const rawName = new RegExp(`/${escaped}-(\\d+)-(\\d+)\\.ndjson\\.gz$`);
    const records: Array<{ id: string; mtime: number }> = [];
    let files = 0;
    for (const hour of hours) {
      for await (const info of this.store.list(rawHourPrefix(hour))) {
        const m = rawName.exec(info.key);
        if (!m || Number(m[1]) <= this.ctx.checkpointedThrough) continue;
        const bytes = await this.store.get(info.key);
        if (!bytes) continue;
        let count = 0;
        for (const line of splitRecords(await decodeObject(bytes))) {
          const v = validateLine(line, Number.MAX_SAFE_INTEGER);
          if (v.kind === 'valid') records.push({ id: v.id, mtime: v.mtime });
          count++;
        }
        this.durable = Math.max(this.durable, Number(m[2]));
        (this.state_.openHours[hour] ??= []).push({ key: info.key, records: count });
        this.state_.lastHour = hour;
        files++;
      }
    }
    return { files, records };
  }
}
