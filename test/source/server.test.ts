import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createGenerator } from '../../src/source/generator.ts';
import { replayFeed } from '../../src/source/replay.ts';
import { decodeChunked, rawRequest, readStream, useServers } from '../helpers/source-client.ts';
import { CAPTURE } from '../helpers/fixtures.ts';


const serve = useServers();

/** A tiny feed of records with chosen ids and mtimes. */
function feedOf(records: Array<[string, number]>) {
  return replayFeed(records.map(([id, mtime]) => ({ bytes: Buffer.from(JSON.stringify({ id, mtime, name: `event ${id}` })), id, mtime })));
}

describe('source server: protocol', () => {
  it('answers GET /2/open_events with chunked JSON lines on loopback', async () => {
    // Given a server over a three-record feed
    const server = await serve({ feed: feedOf([['a', 10], ['b', 20], ['c', 30]]) });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/2\/open_events$/);

    // When a raw HTTP/1.1 client reads the response bytes
    const raw = await rawRequest(server.url, { readMs: 400 });

    // Then the head says chunked JSON and the body decodes, by the chunked rules, to one object per line
    const split = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, split).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
    expect(head).toMatch(/\r\ncontent-type: application\/json/i);
    expect(head).not.toMatch(/content-length/i);
    const body = decodeChunked(raw.subarray(split + 4));
    expect(body.complete).toBe(false); // a live stream does not end
    expect(body.data.toString().split('\n')).toEqual(['{"id":"a","mtime":10,"name":"event a"}', '{"id":"b","mtime":20,"name":"event b"}', '{"id":"c","mtime":30,"name":"event c"}', '']);
  });

  it('keeps the connection open and idle when the events run out', async () => {
    const server = await serve({ feed: feedOf([['a', 1]]) });
    const read = await readStream(server.url, { idleMs: 400 });
    expect(read.lines).toHaveLength(1);
    expect(read.end).toBe('idle');
  });

  it('shares one timeline: a second client gets only what is published after it connects, unless it asks for catch-up', async () => {
    // Given a server whose five records were all read by a first client
    const server = await serve({ feed: feedOf([['a', 10], ['b', 20], ['c', 30], ['d', 40], ['e', 50]]) });
    expect((await readStream(server.url, { lines: 5 })).lines).toHaveLength(5);

    // When new clients connect without and with since_*
    const plain = await readStream(server.url, { idleMs: 300 });
    const byMtime = await readStream(`${server.url}?since_mtime=30`, { idleMs: 300 });
    const byCount = await readStream(`${server.url}?since_count=2`, { idleMs: 300 });
    const all = await readStream(`${server.url}?since_count=100`, { idleMs: 300 });

    // Then: nothing new live; since_mtime gives every record with mtime >= 30; since_count the last n
    const ids = (lines: string[]) => lines.map((l) => (JSON.parse(l) as { id: string }).id);
    expect(plain.lines).toEqual([]);
    expect(ids(byMtime.lines)).toEqual(['c', 'd', 'e']);
    expect(ids(byCount.lines)).toEqual(['d', 'e']);
    expect(ids(all.lines)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('since_mtime selects by mtime, not by position, when mtime is not monotonic', async () => {
    const server = await serve({ feed: feedOf([['a', 50], ['b', 10], ['c', 60], ['d', 20], ['e', 70]]) });
    await readStream(server.url, { lines: 5 });
    const read = await readStream(`${server.url}?since_mtime=50`, { idleMs: 300 });
    expect(read.lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['a', 'c', 'e']);
  });

  it('continues live after catch-up', async () => {
    // Given a generated stream of 3,000 records of which a client read the first 10 and left
    const count = 3_000;
    const server = await serve({ generate: { seed: 3, count } });
    const expected = [...createGenerator({ seed: 3, count })].map((r) => r.line);
    expect((await readStream(server.url, { lines: 10 })).lines).toEqual(expected.slice(0, 10));
    // (the server publishes what the client's socket accepted, so somewhat more than it read)
    const published = server.published();
    expect(published).toBeGreaterThanOrEqual(10);
    expect(published).toBeLessThan(count);

    // When a client reconnects asking for the last 4
    const read = await readStream(`${server.url}?since_count=4`, { idleMs: 500 });

    // Then it gets those 4 again and then everything not yet published, in order
    expect(read.lines).toEqual([...expected.slice(published - 4, published), ...expected.slice(published)]);
  });

  it('answers unknown paths with a 404 JSON error and bad parameters with a 400', async () => {
    const server = await serve({ feed: feedOf([['a', 1]]) });
    const base = server.url.replace('/2/open_events', '');
    const missing = await fetch(`${base}/2/events`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/json/);
    expect(((await missing.json()) as { errors: Array<{ code: string }> }).errors[0]!.code).toBe('not_found');
    const badParam = await fetch(`${server.url}?since_mtime=yesterday`);
    expect(badParam.status).toBe(400);
    await badParam.body?.cancel();
    const post = await fetch(server.url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.body?.cancel();
  });

  it('answers HEAD with the stream headers and no body, without counting a connection', async () => {
    const server = await serve({ feed: feedOf([['a', 1]]) });
    const head = await fetch(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/application\/json/);
    expect(await head.text()).toBe('');
    expect(server.log().connections).toEqual([]);
  });

  it('paces the timeline with --rate', async () => {
    // Given 20 events/s
    const server = await serve({ generate: { seed: 1, count: 1000 }, rate: 20 });
    // When a client reads for about a second
    const started = Date.now();
    const read = await readStream(server.url, { forMs: 1_500, idleMs: 1_000 });
    const elapsed = Date.now() - started;
    // Then about rate × elapsed events were published and received, far from all 1000
    const published = server.published();
    expect(read.lines.length).toBe(published);
    expect(published).toBeLessThan(1000);
    expect(published).toBeGreaterThanOrEqual(Math.floor((elapsed / 1000) * 20 * 0.5));
    expect(published).toBeLessThanOrEqual(Math.ceil((elapsed / 1000) * 20 * 1.5) + 2);
  }, 30_000);

  it('respects backpressure: a client that does not read stops the timeline instead of filling memory', async () => {
    // Given an endless generated stream at full speed
    const server = await serve({ generate: { seed: 5 } });
    // When a client sends its request and then never reads
    const u = new URL(server.url);
    const socket = connect(Number(u.port), u.hostname);
    socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
    socket.pause();
    await sleep(1_000);
    const first = server.published();
    await sleep(500);
    const socketPaused = server.published() - first;
    socket.destroy();
    // Then the timeline stops advancing once the socket buffers are full (no unbounded buffering)
    expect(socketPaused).toBe(0);
    expect(server.published()).toBeLessThan(20_000); // a few MB of socket buffers, not an ever-growing queue
  });

  it('replays the shared capture byte-for-byte: its 758 complete records, without the cut-off last line', async () => {
    // Given the expectation computed from the file itself: every line that parses as JSON
    const data = await readFile(CAPTURE);
    const fileLines = data.toString('utf8').split('\n');
    const complete = fileLines.filter((line) => {
      try {
        JSON.parse(line);
        return true;
      } catch {
        return false;
      }
    });
    expect(complete).toHaveLength(758);

    // When a client reads the replay
    const server = await serve({ replay: [CAPTURE] });
    const read = await readStream(server.url, { idleMs: 500 });

    // Then it got exactly those lines, in order, byte-for-byte, and the log names their ids
    expect(read.lines).toEqual(complete);
    const log = server.log();
    expect(new Set(log.events.map((e) => e.id)).size).toBe(519);
    expect(log.events.map((e) => e.id)).toEqual(complete.map((l) => (JSON.parse(l) as { id: string }).id));
    expect(log.injected).toEqual([]);
  });
});
