import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import { UserError } from '../errors.ts';
import { STATE } from './layout.ts';
import type { ObjectStore } from './store.ts';

/**
 * A lease in the lake: one holder at a time for a named piece of work (a streamer's writer id,
 * a lander's Kinesis shard, the scheduler's hour), with an expiry the holder keeps pushing out
 * by renewing it. Another process takes it over only once it has expired — or at once when the
 * holder is provably gone (a process on this machine that no longer exists).
 *
 * Built on one primitive every store has atomically, create-if-absent (a local folder: link(2);
 * S3: PutObject with If-None-Match: *): each change of the lease — acquiring, renewing,
 * releasing — creates the next numbered generation, `_state/leases/<name>/<generation>.json`, and
 * of two processes creating the same generation exactly one wins. Whoever holds the newest
 * generation holds the lease; a renewal that finds its generation already taken has lost the
 * lease and must stop writing. Older generations are deleted as it goes (two are kept).
 *
 * Expiry is judged by wall clocks: the lease is safe while the holders' clocks differ by less
 * than the margin a holder keeps (`ensure(minRemainingMs)`), and while a holder is not frozen
 * for longer than that between ensure() and its write.
 */
export interface LeaseHolder {
  /** Unique per process (a restart is a new holder). */
  id: string;
  host: string;
  pid: number;
  /** Linux: kernel boot id, pid namespace and process start time, to tell a dead holder on this machine. */
  bootId?: string;
  pidNamespace?: string;
  startTicks?: string;
}

/** One generation of a lease. */
export interface LeaseRecord {
  name: string;
  generation: number;
  /** null once released. */
  holder: LeaseHolder | null;
  acquiredAtMs: number;
  renewedAtMs: number;
  expiresAtMs: number;
  ttlMs: number;
}

export interface LeaseOptions {
  /** How long the lease lasts without renewal. */
  ttlMs: number;
  /** Default: this process. */
  holder?: LeaseHolder;
  now?: () => number;
}

/** The lease is held by someone else and has not expired. */
export class LeaseHeldError extends UserError {
  constructor(readonly record: LeaseRecord, nowMs: number) {
    super(`${record.name} is held by ${describeHolder(record.holder!)} (since ${new Date(record.acquiredAtMs).toISOString()}); its lease expires in ${Math.max(0, Math.ceil((record.expiresAtMs - nowMs) / 1000))} s unless renewed`, {
      hint: 'stop that process first, or wait for its lease to expire',
    });
    this.name = 'LeaseHeldError';
  }
}

/** A holder's lease was taken over (it expired, e.g. while the holder was frozen) or released by someone else. */
export class LeaseLostError extends UserError {
  constructor(name: string, now: LeaseRecord | undefined) {
    super(`lost ${name}${now?.holder ? ` to ${describeHolder(now.holder)}` : ''}: it expired before it was renewed`, {
      hint: 'another process took over this work; this one stopped without writing more',
    });
    this.name = 'LeaseLostError';
  }
}

/** The lease's folder in the lake. */
export function leasePrefix(name: string): string {
  return `${STATE}/leases/${name}/`;
}

/** Tries to take the lease `name`; throws LeaseHeldError naming the holder while someone else holds it. */
export async function acquireLease(store: ObjectStore, name: string, options: LeaseOptions): Promise<Lease> {
  const now = options.now ?? Date.now;
  const me = options.holder ?? thisProcess();
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await readLease(store, name);
    const nowMs = now();
    if (current?.holder && current.holder.id !== me.id && current.expiresAtMs > nowMs && !holderIsGone(current.holder)) {
      throw new LeaseHeldError(current, nowMs);
    }
    const record: LeaseRecord = { name, generation: (current?.generation ?? 0) + 1, holder: me, acquiredAtMs: nowMs, renewedAtMs: nowMs, expiresAtMs: nowMs + options.ttlMs, ttlMs: options.ttlMs };
    if (await store.putIfAbsent(generationKey(name, record.generation), JSON.stringify(record) + '\n', { contentType: 'application/json' })) {
      const lease = new Lease(store, record, now);
      await lease.prune();
      return lease;
    }
    // Someone else created that generation first: look again.
  }
  throw new Error(`${name}: could not take the lease after 10 attempts (it changes hands faster than it can be read)`);
}

/** The newest generation of the lease `name`, or undefined when it was never taken. */
export async function readLease(store: ObjectStore, name: string): Promise<LeaseRecord | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let newest: string | undefined;
    for await (const info of store.list(leasePrefix(name))) if (GENERATION.test(info.key)) newest = info.key;
    if (!newest) return undefined;
    const bytes = await store.get(newest);
    // Deleted between listing and reading: a newer generation exists, list again.
    if (bytes) return JSON.parse(Buffer.from(bytes).toString('utf8')) as LeaseRecord;
  }
  throw new Error(`${name}: the lease kept changing while it was read`);
}

/** A lease this process holds. */
export class Lease {
  constructor(
    private readonly store: ObjectStore,
    private record: LeaseRecord,
    private readonly now: () => number,
  ) {}

  get name(): string {
    return this.record.name;
  }
  get holder(): LeaseHolder {
    return this.record.holder!;
  }
  get expiresAtMs(): number {
    return this.record.expiresAtMs;
  }
  get generation(): number {
    return this.record.generation;
  }

  /** Pushes the expiry out by the ttl; throws LeaseLostError when someone else changed the lease meanwhile. */
  async renew(): Promise<void> {
    const nowMs = this.now();
    const next: LeaseRecord = { ...this.record, generation: this.record.generation + 1, renewedAtMs: nowMs, expiresAtMs: nowMs + this.record.ttlMs };
    if (!(await this.store.putIfAbsent(generationKey(this.name, next.generation), JSON.stringify(next) + '\n', { contentType: 'application/json' }))) {
      throw new LeaseLostError(this.name, await readLease(this.store, this.name).catch(() => undefined));
    }
    this.record = next;
    await this.prune();
  }

  /** Renews when less than `minRemainingMs` is left, so the lease is certainly held for that long; throws LeaseLostError if it was lost. */
  async ensure(minRemainingMs: number): Promise<void> {
    if (this.record.expiresAtMs - this.now() < minRemainingMs) await this.renew();
  }

  /** Gives the lease up, so the next process need not wait for it to expire. */
  async release(): Promise<void> {
    const next: LeaseRecord = { ...this.record, generation: this.record.generation + 1, holder: null, renewedAtMs: this.now(), expiresAtMs: this.now() };
    if (await this.store.putIfAbsent(generationKey(this.name, next.generation), JSON.stringify(next) + '\n', { contentType: 'application/json' })) {
      this.record = next;
      await this.prune();
    }
  }

  /** Deletes generations older than the previous one (best effort: a reader that lists them first simply reads on). */
  async prune(): Promise<void> {
    for await (const info of this.store.list(leasePrefix(this.name))) {
      const m = GENERATION.exec(info.key);
      if (m && Number(m[1]) < this.record.generation - 1) await this.store.delete(info.key).catch(() => undefined);
    }
  }
}

const GENERATION = /\/(\d{16})\.json$/;

function generationKey(name: string, generation: number): string {
  return `${leasePrefix(name)}${String(generation).padStart(16, '0')}.json`;
}

/** Who holds a lease, in words: "pid 4242 on host box (since 2026-01-01T10:00:00Z)". */
export function describeHolder(holder: LeaseHolder): string {
  return `pid ${holder.pid} on host ${holder.host}`;
}

let self: LeaseHolder | undefined;

/** This process as a lease holder. */
export function thisProcess(): LeaseHolder {
  if (self) return self;
  const linux = linuxIdentity(process.pid);
  self = { id: randomUUID(), host: os.hostname(), pid: process.pid, ...linux };
  return self;
}

/**
 * True only when the holder is certainly gone: it ran on this machine (same kernel boot, same
 * pid namespace) and its process no longer exists, or its pid now belongs to a later process.
 */
export function holderIsGone(holder: LeaseHolder): boolean {
  const me = thisProcess();
  if (!holder.bootId || !holder.pidNamespace || holder.bootId !== me.bootId || holder.pidNamespace !== me.pidNamespace) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const now = linuxIdentity(holder.pid);
  return now.startTicks !== undefined && holder.startTicks !== undefined && now.startTicks !== holder.startTicks;
}

function linuxIdentity(pid: number): { bootId?: string; pidNamespace?: string; startTicks?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counts from the field after the command name, which may hold spaces.
    const startTicks = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return {
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      pidNamespace: readlinkSync('/proc/self/ns/pid'),
      ...(startTicks ? { startTicks } : {}),
    };
  } catch {
    return {};
  }
}
