import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { LocalStore } from '../../src/lake/local-store.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { startSourceServer, type SourceServer } from '../../src/source/server.ts';
import { runStreamer, type StreamNotice, type StreamStats } from '../../src/stream/streamer.ts';
import { LocalTelemetry } from '../../src/telemetry/telemetry.ts';
import { readQuarantine, readRawLines, tally } from '../helpers/stream-lake.ts';
import { CAPTURE } from '../helpers/fixtures.ts';


const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempLake(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'oe-stream-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function source(options: Parameters<typeof startSourceServer>[0]): Promise<SourceServer> {
  const server = await startSourceServer(options);
  cleanups.push(() => server.close());
  return server;
}

const fastSettings = configSchema.parse({
  stream: { stallTimeoutMs: 400, backoffInitialMs: 20, backoffMaxMs: 200, rotateAgeMs: 150, statsIntervalMs: 100, resumeWindowMs: 5_000 },
}).stream;

/**
 * Streams until `expectedPairs` distinct (id, mtime) pairs are durable and the source has nothing
 * left to publish, then stops the streamer like Ctrl-C would.
 */
async function streamUntilDone(server: SourceServer, lake: string, expectedPairs: number, feedSize: number, stallTimeoutMs = 400) {
  const stop = new AbortController();
  const notices: StreamNotice[] = [];
  let last: StreamStats | undefined;
  const timeout = setTimeout(() => stop.abort(), 60_000);
  const run = runStreamer({
    url: server.url,
    store: new LocalStore(lake),
    settings: { ...fastSettings, stallTimeoutMs },
    stopSignal: stop.signal,
    telemetry: new LocalTelemetry(lake),
    onNotice: (n) => notices.push(n),
    onStats: (s) => {
      last = s;
      if (s.durable >= expectedPairs && server.published() >= feedSize) setTimeout(() => stop.abort(), 300);
    },
  });
  const summary = await run;
  clearTimeout(timeout);
  return { summary, notices, last };
}

describe('streamer against the source server', () => {
  it('survives every fault kind: the lake holds exactly the served events once each, quarantine exactly the bad lines', async () => {
    // Given a generated source with every fault the server can inject (its stalls here are
    // far shorter than the stall timeout: a pause, not a broken connection; the capture test below
    // has stalls that are)
    const seed = 11;
    const count = 1500;
    const server = await source({
      generate: { seed, count },
      seed,
      faults:
        'disconnect:300,stall:150:250,status:503:every=3:retry=1,status:429:every=4:retry=1,' +
        'malformed:every=97,invalid:every=89,truncated:every=83,oversized:every=700,duplicate:every=41',
    });
    const generated = [...createGenerator({ seed, count })];
    const pairs = new Set(generated.map((r) => `${r.id} ${r.mtime}`));
    const lake = await tempLake();

    // When the streamer runs until everything is durable
    const { summary, notices } = await streamUntilDone(server, lake, pairs.size, count, 2_000);

    // Then every fault kind actually happened
    const log = server.log();
    expect(log.connections.some((c) => c.status === 503)).toBe(true);
    expect(log.connections.some((c) => c.status === 429)).toBe(true);
    expect(log.connections.some((c) => c.end === 'disconnect-fault')).toBe(true);
    expect(notices.some((n) => /stalled/.test(n.message))).toBe(false);
    // and a 503/429 with Retry-After: 1 was waited out for at least that second
    const refusals = notices.map((n) => /HTTP (?:503|429); reconnecting in (\d+) ms/.exec(n.message)).filter((m) => m !== null);
    expect(refusals.length).toBeGreaterThan(0);
    for (const m of refusals) expect(Number(m[1])).toBeGreaterThanOrEqual(1000);
    expect(new Set(log.injected.map((i) => i.kind))).toEqual(new Set(['malformed', 'invalid', 'truncated', 'oversized']));
    expect(log.events.some((e) => e.via === 'duplicate')).toBe(true);

    // And the lake holds each served (id, mtime) exactly once, byte-for-byte as generated
    const lines = await readRawLines(lake);
    const servedIds = new Set(log.events.map((e) => e.id));
    expect(new Set(lines.map((l) => l.id))).toEqual(servedIds);
    expect(new Set(lines.map((l) => `${l.id} ${l.mtime}`))).toEqual(pairs);
    expect(lines.length).toBe(pairs.size);
    const byPair = new Map(generated.map((r) => [`${r.id} ${r.mtime}`, r.line]));
    for (const l of lines) expect(l.line).toBe(byPair.get(`${l.id} ${l.mtime}`));

    // And quarantine holds exactly the injected lines, each once (oversized ones by head and length)
    const entries = await readQuarantine(lake);
    const expected = tally(log.injected.map((i) => (i.kind === 'oversized' ? `oversized ${Buffer.byteLength(i.line)}` : i.line)));
    const got = tally(entries.map((e) => (e.truncated ? `oversized ${e.length}` : e.bytes)));
    expect(got).toEqual(expected);
    for (const e of entries) expect(e.reason).toMatch(/^(malformed JSON|truncated record|unusable id|unusable mtime|not a JSON object|oversized record)/);

    // And the run reports what happened, also to telemetry
    expect(summary).toMatchObject({ state: 'stopped', stoppedBy: 'signal', durable: pairs.size, invalid: entries.length });
    expect(summary.reconnects).toBeGreaterThanOrEqual(log.connections.length - 1);
    const stats = await new LocalTelemetry(lake).read({ kind: 'stats', component: 'stream' });
    expect(stats.at(-1)?.data).toMatchObject({ state: 'stopped', events: pairs.size, invalid: entries.length });
    expect(Object.keys(stats.at(-1)!.data!)).toEqual(
      expect.arrayContaining(['eventsPerSec', 'bytesPerSec', 'events', 'bytes', 'reconnects', 'invalid', 'duplicates', 'lastEventAgeMs', 'state']),
    );
  });

  it('replays the real capture completely: all its distinct ids land, nothing is quarantined', async () => {
    // Given the capture, read independently: complete records and the cut-off last line
    const text = await readFile(CAPTURE, 'utf8');
    const records: Array<{ id: string; mtime: number }> = [];
    for (const line of text.split('\n').filter((l) => l !== '')) {
      try {
        records.push(JSON.parse(line) as { id: string; mtime: number });
      } catch {
        // the cut-off last line: the source does not serve it
      }
    }
    const ids = new Set(records.map((r) => r.id));
    expect(ids.size).toBe(519);
    const server = await source({ replay: [CAPTURE], faults: 'stall:200:1500' });
    const lake = await tempLake();

    // When the streamer replays it, the source going silent after every 200 events for longer than the stall timeout
    const { notices } = await streamUntilDone(server, lake, new Set(records.map((r) => `${r.id} ${r.mtime}`)).size, records.length);

    // Then all 519 ids, and every record, land once, and quarantine holds only what the source flagged as unusable (none)
    const lines = await readRawLines(lake);
    expect(new Set(lines.map((l) => l.id))).toEqual(ids);
    expect(lines.length).toBe(records.length);
    const entries = await readQuarantine(lake);
    expect(entries.map((e) => e.bytes)).toEqual(server.log().injected.map((i) => i.line));
    // And each stall was taken for a broken connection and resumed from
    expect(notices.filter((n) => n.kind === 'disconnected' && /stalled/.test(n.message)).length).toBeGreaterThanOrEqual(3);
    expect(server.log().connections.slice(1).every((c) => c.sinceCount !== undefined || c.sinceMtime !== undefined)).toBe(true);
  });

  it('keeps a whole last record that the stream ends without its newline, and counts a cut one as cut off', async () => {
    // Given a plain server (not ours) that serves the same body on every request and closes:
    // two records, then a third without its newline; and one whose last record is cut
    const body = '{"id":"a","mtime":1}\n{"id":"b","mtime":2}\r\n{"id":"c","mtime":3}';
    const served: string[] = [];
    const server = createServer((req, res) => {
      served.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.startsWith('/cut') ? body.slice(0, -3) : body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // When the streamer reads it until three events are durable
    const lake = await tempLake();
    const giveUp = AbortSignal.timeout(20_000);
    const done = await runStreamer({ url: `${base}/whole`, store: new LocalStore(lake), settings: fastSettings, maxEvents: 3, stopSignal: giveUp });

    // Then all three are in the lake, each once, from the first connection
    expect(done).toMatchObject({ stoppedBy: 'max-events', durable: 3, cutOff: 0, invalid: 0 });
    expect((await readRawLines(lake)).map((l) => l.line)).toEqual(['{"id":"a","mtime":1}', '{"id":"b","mtime":2}', '{"id":"c","mtime":3}']);
    expect(served).toHaveLength(1);

    // And a cut last record is neither stored nor quarantined, but counted as cut off
    const lake2 = await tempLake();
    const stop = new AbortController();
    const cut = await runStreamer({
      url: `${base}/cut`,
      store: new LocalStore(lake2),
      settings: fastSettings,
      stopSignal: stop.signal,
      onStats: (st) => {
        if (st.cutOff >= 2) stop.abort();
      },
    });
    expect(cut.durable).toBe(2);
    expect(cut.invalid).toBe(0);
    expect(cut.cutOff).toBeGreaterThanOrEqual(2);
    expect(await readQuarantine(lake2)).toEqual([]);
  });
});
