import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../src/aws/clients.ts';
import { acquireLease, LeaseHeldError, LeaseLostError, readLease, thisProcess, type LeaseHolder } from '../../src/lake/lease.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import type { ObjectStore } from '../../src/lake/store.ts';
import { startMoto, type Moto } from '../helpers/moto.ts';

let moto: Moto;
let client: S3Client;
const dirs: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, moto.env);
  client = s3Client();
  await client.send(new CreateBucketCommand({ Bucket: 'leases' }));
});
afterAll(async () => {
  await moto?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function localStore(): Promise<LocalStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-lease-'));
  dirs.push(dir);
  return new LocalStore(dir);
}

let prefixes = 0;
const stores: Record<string, () => Promise<ObjectStore>> = {
  'a local folder': localStore,
  'S3 (moto_server)': async () => new S3Store('leases', `run-${++prefixes}/`, client),
};

/** A holder on another machine (never provably gone from here). */
function remote(name: string): LeaseHolder {
  return { id: `id-${name}`, host: `host-${name}`, pid: 4000 + name.length };
}

describe.each(Object.keys(stores))('leases on %s', (where) => {
  it('has one holder: a second is refused with the holder named, takes over only after expiry, and the old holder then cannot renew', async () => {
    const store = await stores[where]!();
    let clock = 1_000_000;
    const now = (): number => clock;
    // Given A holds the lease for 10 s
    const a = await acquireLease(store, 'stream/w1', { ttlMs: 10_000, holder: remote('a'), now });
    expect(a.generation).toBe(1);

    // When B asks before it expires, it is refused with A named
    clock += 9_000;
    const refused = await acquireLease(store, 'stream/w1', { ttlMs: 10_000, holder: remote('b'), now }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LeaseHeldError);
    expect((refused as Error).message).toBe('stream/w1 is held by pid 4001 on host host-a (since 1970-01-01T00:16:40.000Z); its lease expires in 1 s unless renewed');

    // And A's renewal pushes the expiry out, so B is refused again later
    await a.renew();
    clock += 5_000;
    await expect(acquireLease(store, 'stream/w1', { ttlMs: 10_000, holder: remote('b'), now })).rejects.toThrow(/held by pid 4001 on host host-a/);

    // When A stops renewing and the lease expires, B takes it over
    clock += 10_001;
    const b = await acquireLease(store, 'stream/w1', { ttlMs: 10_000, holder: remote('b'), now });
    expect((await readLease(store, 'stream/w1'))?.holder?.id).toBe('id-b');

    // Then A, waking up, cannot renew: it lost the lease, to B
    await expect(a.renew()).rejects.toThrow(LeaseLostError);
    await expect(a.ensure(5_000)).rejects.toThrow(/lost stream\/w1 to pid 4001 on host host-b/);

    // And once B releases it, C gets it at once
    await b.release();
    const c = await acquireLease(store, 'stream/w1', { ttlMs: 10_000, holder: remote('c'), now });
    expect(c.holder.id).toBe('id-c');
    // and old generations are pruned (the current one and the one before it remain)
    const generations = [];
    for await (const info of store.list('_state/leases/stream/w1/')) generations.push(info.key.slice(-21));
    expect(generations).toEqual([`${String(c.generation - 1).padStart(16, '0')}.json`, `${String(c.generation).padStart(16, '0')}.json`]);
  });

  it('of many processes asking at once, exactly one gets it', async () => {
    const store = await stores[where]!();
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => acquireLease(store, 'shard/0001', { ttlMs: 30_000, holder: remote(`p${i}`) })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LeaseHeldError);
    expect((await readLease(store, 'shard/0001'))?.holder?.id).toBe((won[0] as PromiseFulfilledResult<{ holder: LeaseHolder }>).value.holder.id);
  });
});

describe('a holder that is gone', () => {
  it('on this machine is taken over at once; one that is alive is not', async () => {
    const store = await localStore();
    // Given a lease held by a process of this machine that has since exited
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    const pid = child.pid!;
    const me = thisProcess();
    const dead: LeaseHolder = { ...me, id: 'dead', pid, startTicks: undefined };
    if (!me.bootId) return; // not Linux: only expiry applies
    await acquireLease(store, 'stream/w2', { ttlMs: 60_000, holder: { ...dead, startTicks: (await import('node:fs')).readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]! } });
    // While it runs, another is refused
    await expect(acquireLease(store, 'stream/w2', { ttlMs: 60_000 })).rejects.toThrow(new RegExp(`held by pid ${pid} on host ${os.hostname()}`));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // When it is gone, the next process takes over without waiting the minute out
    const taken = await acquireLease(store, 'stream/w2', { ttlMs: 60_000 });
    expect(taken.holder.pid).toBe(process.pid);
    expect((await readdir(path.join(store.root, '_state/leases/stream/w2'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
