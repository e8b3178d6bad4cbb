import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.ts';
import { acquireLease, describeHolder, LeaseHeldError, type Lease, type LeaseHolder } from '../lake/lease.ts';
import { RAW, hourOfKey, manifestKey, rawHourPrefix, type HourId } from '../lake/layout.ts';
import { isRawDataKey } from '../lake/manifest.ts';
import type { ObjectStore } from '../lake/store.ts';
import type { TelemetrySink } from '../telemetry/telemetry.ts';
import type { EtlLauncher } from './launch.ts';
import { nextTickAtMs, planTick, retryDelayMs, type RawHourFacts, type RetryEntry, type ScheduleSettings, type TickPlan } from './plan.ts';
import { etlByHour, readScheduleState, SCHEDULE_LEASE, writeScheduleState, type TickSummary } from './state.ts';

export interface SchedulerOptions {
  store: ObjectStore;
  /** Runs the ETL over the planned hours (a job of the job runner). */
  launcher: EtlLauncher;
  settings: ScheduleSettings;
  /** The schedule lease's time to live; it is renewed every third of it while a tick runs. */
  leaseTtlMs: number;
  now?: () => number;
  /** Who takes the lease (default: this process); tests run two schedulers in one process. */
  holder?: LeaseHolder;
  /** Where ticks, retries and given-up hours are reported (ERROR for a given-up hour). */
  telemetry?: TelemetrySink;
  /** Stops the tick: the running ETL job is asked to stop (its finished batches stay). */
  signal?: AbortSignal;
}

/** What a tick did. */
export type TickResult =
  | { status: 'busy'; at: string; heldBy: string; expiresInMs: number }
  | {
      status: 'idle' | 'ran';
      summary: TickSummary;
      waiting: TickPlan['waiting'];
      /** The earliest retry that is not due yet. */
      nextRetryAtMs?: number;
    };

/**
 * One tick of the scheduler: under the lake's schedule lease (another scheduler holding it makes
 * this tick `busy`), waits for any scheduled run a dead scheduler left going, plans (see
 * planTick), runs the ETL once over every planned hour, oldest first, and reads from the ETL's
 * own state which hours it finished. A failed hour is retried with backoff and, after
 * `maxAttempts`, given up (ERROR telemetry; `alerts` reports it) until its raw data changes;
 * the other hours go on regardless.
 */
export async function scheduleTick(options: SchedulerOptions): Promise<TickResult> {
  const now = options.now ?? Date.now;
  const { store, settings } = options;
  const startedMs = now();
  let lease: Lease;
  try {
    lease = await acquireLease(store, SCHEDULE_LEASE, { ttlMs: options.leaseTtlMs, now, ...(options.holder ? { holder: options.holder } : {}) });
  } catch (error) {
    if (!(error instanceof LeaseHeldError)) throw error;
    const { record } = error;
    return { status: 'busy', at: new Date(startedMs).toISOString(), heldBy: record.holder ? describeHolder(record.holder) : 'nobody', expiresInMs: Math.max(0, record.expiresAtMs - startedMs) };
  }
  const lost = new AbortController();
  const keeper = keepRenewed(lease, options.leaseTtlMs / 3, (error) => lost.abort(error));
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
  try {
    await options.launcher.settle(signal);
    const state = await readScheduleState(store);
    const [raw, before] = await Promise.all([rawHourFacts(store), etlByHour(store)]);
    const plan = planTick({ nowMs: now(), raw, etl: before, retries: state.retries, settings });
    const summary: TickSummary = {
      at: new Date(startedMs).toISOString(),
      by: describeHolder(lease.holder),
      ran: plan.run,
      open: plan.open,
      done: [],
      failed: [],
      waiting: plan.waiting.length,
      gaveUp: plan.gaveUp,
      durationMs: 0,
    };
    // Hours done since (by an operator's `etl`, or new data that ran) need no retries.
    for (const hour of Object.keys(state.retries)) if (before.get(hour)?.status === 'done') delete state.retries[hour];

    if (plan.run.length > 0) {
      const outcome = await options.launcher.run(plan.run, signal);
      if (outcome.jobId) summary.jobId = outcome.jobId;
      await lease.ensure(options.leaseTtlMs / 2);
      const after = await etlByHour(store);
      const endedMs = now();
      const newest = new Map(raw.map((r) => [r.hour, r.newestMtimeMs]));
      for (const hour of plan.run) {
        const result = after.get(hour);
        // Only a state this run wrote counts: one unchanged since the plan says the hour was not processed.
        const fresh = result !== undefined && result.finishedAt !== before.get(hour)?.finishedAt ? result : undefined;
        if (fresh?.status === 'done') {
          summary.done.push(hour);
          delete state.retries[hour];
          continue;
        }
        if (signal.aborted && !fresh) continue; // stopped before its turn: not an attempt
        const error = fresh?.error ?? `not processed: ${outcome.reason ?? 'the ETL run ended without recording it'}`;
        const previous = state.retries[hour];
        const rawNewest = newest.get(hour) ?? 0;
        const attempts = previous && previous.rawNewestMtimeMs >= rawNewest ? previous.attempts + 1 : 1;
        const gaveUp = attempts >= settings.maxAttempts;
        const entry: RetryEntry = {
          attempts,
          lastAttemptAtMs: endedMs,
          nextAttemptAtMs: endedMs + retryDelayMs(attempts, settings),
          rawNewestMtimeMs: rawNewest,
          error,
          ...(gaveUp ? { gaveUp } : {}),
        };
        state.retries[hour] = entry;
        summary.failed.push({ hour, error, attempts, gaveUp, ...(gaveUp ? {} : { nextAttemptAt: new Date(entry.nextAttemptAtMs).toISOString() }) });
        options.telemetry?.emit(
          gaveUp
            ? { level: 'error', component: 'schedule', kind: 'log', msg: `gave up on ${hour} after ${attempts} attempt(s): ${error}`, data: { hour, attempts, error, rule: 'hour-failed' } }
            : { level: 'warn', component: 'schedule', kind: 'log', msg: `${hour} failed (attempt ${attempts} of ${settings.maxAttempts}), retry at ${new Date(entry.nextAttemptAtMs).toISOString()}: ${error}`, data: { hour, attempts, error } },
        );
      }
    }
    summary.durationMs = now() - startedMs;
    state.lastTick = summary;
    await lease.ensure(options.leaseTtlMs / 2);
    await writeScheduleState(store, state);
    if (summary.ran.length > 0) {
      options.telemetry?.emit({
        level: 'info',
        component: 'schedule',
        kind: 'log',
        msg: `ran ${summary.ran.length} hour(s): ${summary.done.length} done, ${summary.failed.length} failed${summary.jobId ? ` (job ${summary.jobId})` : ''}`,
        data: { ...summary },
      });
    }
    const retryAts = Object.values(state.retries)
      .filter((r) => !r.gaveUp)
      .map((r) => r.nextAttemptAtMs);
    return {
      status: summary.ran.length > 0 ? 'ran' : 'idle',
      summary,
      waiting: plan.waiting,
      ...(retryAts.length > 0 ? { nextRetryAtMs: Math.min(...retryAts) } : {}),
    };
  } finally {
    keeper.stop();
    // A lost lease is someone else's now: leave it alone.
    if (!lost.signal.aborted) await lease.release().catch(() => undefined);
  }
}

export interface RunScheduleOptions extends SchedulerOptions {
  /** One tick, then return (a systemd timer's `schedule --once`). */
  once?: boolean;
  /** After each tick, with when the next one is due (undefined when the loop ends). */
  onTick?: (result: TickResult, nextAtMs: number | undefined) => void;
  /** A tick that threw (the lake unreachable, …): the loop reports it and tries again at the next tick. */
  onError?: (error: unknown) => void;
  /** Waits until the next tick (tests advance a fake clock here). */
  wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * The scheduler: a tick now, then one at every interval (aligned, see nextTickAtMs) or at a
 * failed hour's retry if sooner, until the signal aborts. With `once`, one tick whose error is
 * thrown; otherwise a failing tick is reported and the loop goes on.
 */
export async function runSchedule(options: RunScheduleOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const wait = options.wait ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined));
  for (;;) {
    let result: TickResult | undefined;
    try {
      result = await scheduleTick(options);
    } catch (error) {
      if (options.once) throw error;
      options.onError?.(error);
      options.telemetry?.emit({ level: 'error', component: 'schedule', kind: 'log', msg: `tick failed: ${errorMessage(error)}` });
    }
    const stop = options.once === true || options.signal?.aborted === true;
    const at = now();
    const nextAtMs = stop ? undefined : nextTickAtMs(at, options.settings, result?.status === 'busy' ? undefined : result?.nextRetryAtMs);
    if (result) options.onTick?.(result, nextAtMs);
    if (nextAtMs === undefined) return;
    await wait(Math.max(0, nextAtMs - at), options.signal);
    if (options.signal?.aborted) return;
  }
}

/**
 * The raw hours of the lake with their newest data object's mtime and whether their manifest
 * exists: one listing of raw/ (objects directly in an hour's folder only).
 */
export async function rawHourFacts(store: ObjectStore): Promise<RawHourFacts[]> {
  const byHour = new Map<HourId, RawHourFacts>();
  const withData = new Set<HourId>();
  for await (const info of store.list(`${RAW}/`)) {
    const hour = hourOfKey(info.key);
    if (!hour || !info.key.startsWith(rawHourPrefix(hour)) || info.key.slice(rawHourPrefix(hour).length).includes('/')) continue;
    const facts = byHour.get(hour) ?? { hour, newestMtimeMs: 0, manifest: false };
    byHour.set(hour, facts);
    if (info.key === manifestKey(hour)) facts.manifest = true;
    else if (isRawDataKey(info.key)) {
      withData.add(hour);
      facts.newestMtimeMs = Math.max(facts.newestMtimeMs, info.mtimeMs);
    }
  }
  return [...byHour.values()].filter((f) => withData.has(f.hour)).sort((a, b) => (a.hour < b.hour ? -1 : 1));
}

/** Renews the lease every `everyMs` until stopped; `onLost` once a renewal fails (the tick then stops). */
function keepRenewed(lease: Lease, everyMs: number, onLost: (error: unknown) => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (): void => {
    timer = setTimeout(() => {
      lease.renew().then(
        () => {
          if (!stopped) schedule();
        },
        (error: unknown) => onLost(error),
      );
    }, everyMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
