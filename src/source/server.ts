import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../errors.ts';
import type { Feed } from './feed.ts';
import {
  cutBudget,
  fires,
  invalidLine,
  malformedLine,
  oversizedLine,
  parseFaultSpec,
  statusFor,
  truncatedLine,
  type FaultSpec,
  type InjectedKind,
} from './faults.ts';
import { generatorFeed, type GeneratorOptions } from './generator.ts';
import { hash01 } from './random.ts';
import { loadReplayFeed } from './replay.ts';

/** The path of Meetup's stream, the only one the server answers. */
export const STREAM_PATH = '/2/open_events';
/** The stream response's headers (its body is chunked JSON lines). */
const STREAM_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-cache' } as const;

export interface SourceServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port; 0 picks a free one (default 0). */
  port?: number;
  /** Serve these NDJSON captures, in order. */
  replay?: readonly string[];
  /** Serve generated events (seed, count, startMs, stepMs). */
  generate?: GeneratorOptions;
  /** Serve this feed (tests, the demo). Exactly one of replay, generate and feed. */
  feed?: Feed;
  /** Events per second on the shared timeline; 0 (default) as fast as the fastest client reads. */
  rate?: number;
  /** Faults to inject: a spec string (see FAULT_SPEC_HELP) or a parsed spec. */
  faults?: string | FaultSpec;
  /** Seeds fault placement (default 1; the generator's seed when generating). */
  seed?: number;
}

/** An event line the server wrote whole, with where it sits on the timeline. */
export interface ServedEvent {
  id: string;
  mtime: number;
  /** Position on the server's timeline. */
  index: number;
  /** 1-based connection number. */
  connection: number;
  /** How it was sent: live, as since_* catch-up, or as an injected duplicate. */
  via: 'live' | 'catchup' | 'duplicate';
}

/** A line the server wrote that is not a usable event (the ones a consumer must quarantine). */
export interface InjectedLine {
  /**
   * An injected fault, or `capture` for a replayed capture line that is not a usable record.
   * `cut` is the partial last line of a connection cut mid-record (no newline follows it).
   */
  kind: InjectedKind | 'capture';
  /** The exact line as sent, without its newline (a `cut` line had none). */
  line: string;
  connection: number;
  /** The timeline position of the event it followed (for `capture` and `cut`, of the record itself). */
  after: number;
}

/** One request to the stream. */
export interface ConnectionRecord {
  connection: number;
  status: number;
  sinceMtime?: number;
  sinceCount?: number;
  /** Lines written (events, duplicates and injected lines). */
  lines: number;
  /** How it ended, once it has. */
  end?: 'disconnect-fault' | 'byte-budget' | 'client' | 'server-close';
}

/** What the server served so far: the ground truth integration tests compare a lake against. */
export interface ServedLog {
  events: ServedEvent[];
  injected: InjectedLine[];
  connections: ConnectionRecord[];
}

export interface SourceServer {
  /** http://host:port/2/open_events */
  url: string;
  host: string;
  port: number;
  /** Records on the timeline so far (published). */
  published(): number;
  /** A snapshot of everything served so far. */
  log(): ServedLog;
  /** Stops listening and ends every open stream. */
  close(): Promise<void>;
}

/** Bytes gathered before one write: big enough for throughput, small enough to pace by backpressure. */
const BATCH_BYTES = 64 * 1024;

/**
 * Starts a server that speaks Meetup's open_events stream protocol on `GET /2/open_events`.
 *
 * The stream is one global timeline shared by all clients, like Meetup's: records are published
 * over time and a new connection receives what is published from then on, plus catch-up when it
 * asks for it (`since_mtime=<ms>`: every published record with mtime ≥ ms, in timeline order;
 * `since_count=<n>`: the last n published records; since_count wins if both are given), then
 * continues live. With `rate` > 0 the timeline advances at that many records per second from the
 * first connection on, whether or not anyone is connected (what a client misses while away it
 * must catch up with since_*). With rate 0 the timeline advances as fast as the fastest client's
 * socket accepts, and not at all while nobody is connected, so a client that drops misses only
 * what was in flight, which since_mtime (or since_count) gives back. When the feed is exhausted
 * the stream idles with the connection open, as a quiet live stream does.
 *
 * A client does not get its own copy of the stream: every connection reads the one timeline by
 * position (the feed re-renders or re-reads any record), and writes wait for 'drain', so a slow
 * client costs a cursor, not a buffer.
 *
 * Faults only add lines (bad ones, duplicates) or end a connection (at a line boundary, in the
 * middle of a record, or after a byte budget), during catch-up as during live events, so "the
 * events served" is exactly the set of whole event lines written (see `log()`); a record cut
 * short is logged as injected `cut`, and a record sent in a truncated copy has also been sent whole.
 */
export async function startSourceServer(options: SourceServerOptions): Promise<SourceServer> {
  const sources = [options.replay?.length ? 1 : 0, options.generate ? 1 : 0, options.feed ? 1 : 0].reduce((a, b) => a + b, 0);
  if (sources !== 1) throw new UserError('choose one source: --replay <file>... or --generate', { hint: 'run `openevents source serve --help`' });
  const feed = options.feed ?? (options.replay?.length ? await loadReplayFeed(options.replay) : generatorFeed(options.generate!));
  const faults = typeof options.faults === 'string' ? parseFaultSpec(options.faults) : (options.faults ?? {});
  const seed = options.seed ?? options.generate?.seed ?? 1;
  const rate = options.rate ?? 0;
  if (!(rate >= 0) || !Number.isFinite(rate)) throw new UserError(`rate must be a number ≥ 0, got ${rate}`);

  const served: { index: number[]; connection: number[]; via: ServedEvent['via'][] } = { index: [], connection: [], via: [] };
  const injected: InjectedLine[] = [];
  const connections: ConnectionRecord[] = [];
  const open = new Set<ServerResponse>();
  /** Published records cut short by a mid-line disconnect, to be sent whole to the next connection first. */
  const owed: number[] = [];
  let startedAt: number | undefined;
  let closing = false;

  /** Publishes what the timeline holds by now; returns the published count. */
  function publish(wanted: number): number {
    if (rate > 0) {
      startedAt ??= Date.now();
      const due = Math.floor(((Date.now() - startedAt) * rate) / 1000);
      while (feed.size() < due && feed.produce());
      return feed.size();
    }
    while (feed.size() < wanted && feed.produce());
    return feed.size();
  }

  /** ms until the timeline publishes its next record (rate > 0). */
  function untilNext(): number {
    if (rate <= 0 || startedAt === undefined) return 50;
    const nextAt = startedAt + ((feed.size() + 1) * 1000) / rate;
    return Math.max(1, Math.ceil(nextAt - Date.now()));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== STREAM_PATH) return sendJson(res, 404, { code: 'not_found', problem: `no such stream: ${url.pathname}`, details: `the stream is ${STREAM_PATH}` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendJson(res, 405, { code: 'method_not_allowed', problem: `${req.method ?? ''} not allowed`, details: 'use GET' }, { Allow: 'GET, HEAD' });
    }
    const sinceMtime = parseParam(url, 'since_mtime');
    const sinceCount = parseParam(url, 'since_count');
    if (sinceMtime === null || sinceCount === null) {
      return sendJson(res, 400, { code: 'bad_request', problem: 'since_mtime and since_count must be non-negative integers' });
    }
    // A HEAD (a client or a health check probing the stream) gets the stream's headers only; it is not a connection.
    if (req.method === 'HEAD') return void res.writeHead(200, STREAM_HEADERS).end();
    const connection = connections.length + 1;
    const record: ConnectionRecord = { connection, status: 200, lines: 0 };
    if (sinceMtime !== undefined) record.sinceMtime = sinceMtime;
    if (sinceCount !== undefined) record.sinceCount = sinceCount;
    connections.push(record);

    const status = statusFor(faults, connection);
    if (status) {
      record.status = status.code;
      const problem = status.code === 429 ? 'too many requests' : 'service unavailable';
      return sendJson(res, status.code, { code: status.code === 429 ? 'throttled' : 'unavailable', problem }, { 'Retry-After': String(status.retryAfterSec) });
    }

    res.writeHead(200, { ...STREAM_HEADERS, 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    open.add(res);
    let closed = false;
    const onClose = (): void => {
      closed = true;
      open.delete(res);
      record.end ??= closing ? 'server-close' : 'client';
    };
    res.on('close', onClose);

    // Catch-up first (positions published before this connection), then live from `live` on.
    let live = publish(0);
    const catchup = catchupPositions(live, sinceMtime, sinceCount);
    let c = 0;
    let sinceDisconnect = 0;
    let sinceStall = 0;
    // A `cut` fault's byte budget for this connection, and the payload bytes written so far.
    const budget = faults.cut ? cutBudget(faults.cut, seed, connection) : Number.POSITIVE_INFINITY;
    let sent = 0;

    // `closed` follows the 'close' event, which comes a tick after destroy(): check both, or a
    // destroyed response would spin here without yielding to the event loop.
    while (!closed && !res.destroyed) {
      const parts: Array<string | Buffer> = [];
      let bytes = 0;
      let action: 'disconnect' | 'stall' | undefined;
      /** Queues a line and its newline; false when the byte budget ends inside it (its head is queued, the connection is then cut). */
      const queue = (line: string | Buffer, after: number): boolean => {
        if (budget !== Number.POSITIVE_INFINITY) {
          const whole = Buffer.isBuffer(line) ? line : Buffer.from(line);
          if (sent + whole.length + 1 > budget) {
            const head = whole.subarray(0, budget - sent);
            sent = budget;
            if (head.length > 0) {
              parts.push(head);
              record.lines += 1;
              injected.push({ kind: 'cut', line: head.toString(), connection, after });
            }
            action = 'disconnect';
            return false;
          }
          sent += whole.length + 1;
        }
        parts.push(line, '\n');
        bytes += line.length + 1;
        record.lines += 1;
        return true;
      };
      while (bytes < BATCH_BYTES && action === undefined) {
        let index: number;
        let via: ServedEvent['via'];
        if (c < catchup.length) {
          index = catchup[c++]!;
          via = 'catchup';
        } else if (owed.length > 0) {
          index = owed.shift()!;
          via = 'live';
        } else if (live < publish(live + 1)) {
          index = live++;
          via = 'live';
        } else break;
        const line = feed.line(index);
        if (!queue(line, index)) {
          // Cut inside a live record: it is owed, whole, to the next connection.
          if (via === 'live') owed.push(index);
          break;
        }
        const id = feed.id(index);
        if (id === undefined) injected.push({ kind: 'capture', line: line.toString(), connection, after: index });
        else {
          served.index.push(index);
          served.connection.push(connection);
          served.via.push(via);
        }
        for (const extra of faultLines(index, line, via === 'catchup' ? { connection, n: c - 1 } : undefined)) {
          if (!queue(extra.line, index)) break;
          if (extra.kind === 'duplicate') {
            served.index.push(extra.of);
            served.connection.push(connection);
            served.via.push('duplicate');
          } else injected.push({ kind: extra.kind, line: extra.line, connection, after: index });
        }
        if (action !== undefined) break;
        sinceDisconnect += 1;
        sinceStall += 1;
        if (faults.disconnect && sinceDisconnect >= faults.disconnect) {
          action = 'disconnect';
          const next = !faults.disconnectMidLine ? undefined : c < catchup.length ? catchup[c] : live < publish(live + 1) ? live : undefined;
          if (next !== undefined) {
            // The network cut a record short. A live one is owed, whole, to the next connection;
            // a catch-up one is still published, for the next since_* request to serve again.
            if (next === live) {
              live++;
              owed.push(next);
            } else c++;
            const whole = feed.line(next).toString();
            const cut = whole.slice(0, Math.max(1, Math.floor(whole.length * (0.1 + 0.8 * hash01(seed, 31, next)))));
            parts.push(cut);
            record.lines += 1;
            injected.push({ kind: 'cut', line: cut, connection, after: next });
          }
        } else if (faults.stall && sinceStall >= faults.stall.every) {
          sinceStall = 0;
          action = 'stall';
        }
      }
      if (parts.length > 0) {
        const chunk = parts.every((p) => typeof p === 'string') ? (parts as string[]).join('') : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
        const flushed = new Promise<void>((resolve) => res.write(chunk, () => resolve()));
        if (res.writableNeedDrain) await waitFor(res, 'drain');
        if (action === 'disconnect') {
          // Hand the bytes to the kernel first, so the cut falls exactly where it was placed.
          await Promise.race([flushed, waitFor(res, 'close')]);
          record.end = sent === budget ? 'byte-budget' : 'disconnect-fault';
          res.socket?.destroy();
          return;
        }
      }
      if (closed || res.destroyed) break;
      if (action === 'stall') await sleep(faults.stall!.ms, res);
      else if (parts.length === 0) await sleep(rate > 0 ? untilNext() : 50, res);
    }
  }

  /** The timeline positions a since_* request catches up with, in timeline order. */
  function catchupPositions(published: number, sinceMtime: number | undefined, sinceCount: number | undefined): number[] {
    if (sinceCount !== undefined) {
      const from = Math.max(0, published - sinceCount);
      return Array.from({ length: published - from }, (_, i) => from + i);
    }
    if (sinceMtime !== undefined) {
      const out: number[] = [];
      for (let i = 0; i < published; i += 1) if (feed.mtime(i) >= sinceMtime) out.push(i);
      return out;
    }
    return [];
  }

  type Extra = { kind: InjectedKind; line: string } | { kind: 'duplicate'; line: string; of: number };
  /** The bad lines and duplicates that follow the event at `index` (live, or the n-th catch-up event of a connection). */
  function faultLines(index: number, line: string | Buffer, catchup?: { connection: number; n: number }): Extra[] {
    const out: Extra[] = [];
    if (fires(faults.malformed, 'malformed', seed, index, catchup)) out.push({ kind: 'malformed', line: malformedLine(seed, index) });
    if (fires(faults.invalid, 'invalid', seed, index, catchup)) out.push({ kind: 'invalid', line: invalidLine(seed, index) });
    if (fires(faults.truncated, 'truncated', seed, index, catchup)) out.push({ kind: 'truncated', line: truncatedLine(line.toString(), seed, index) });
    if (fires(faults.oversized, 'oversized', seed, index, catchup)) out.push({ kind: 'oversized', line: oversizedLine(line.toString()) });
    if (fires(faults.duplicate, 'duplicate', seed, index, catchup)) {
      // An exact copy of one of the last 100 records (this one included), by seed.
      let of = index - Math.floor(hash01(seed, 21, index) * Math.min(100, index + 1));
      if (feed.id(of) === undefined) of = index;
      if (feed.id(of) !== undefined) out.push({ kind: 'duplicate', line: feed.line(of).toString(), of });
    }
    return out;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new UserError(`port ${options.port} is in use`, { hint: 'pass --port 0 to pick a free port', cause: error }));
      else reject(error);
    });
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const hostForUrl = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${hostForUrl}:${address.port}${STREAM_PATH}`,
    host,
    port: address.port,
    published: () => feed.size(),
    log: () => ({
      events: served.index.map((index, i) => ({
        id: feed.id(index)!,
        mtime: feed.mtime(index),
        index,
        connection: served.connection[i]!,
        via: served.via[i]!,
      })),
      injected: [...injected],
      connections: connections.map((c) => ({ ...c })),
    }),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        for (const res of open) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** undefined when absent, null when not a non-negative integer. */
function parseParam(url: URL, name: string): number | undefined | null {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  const n = Number(value);
  return value !== '' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function sendJson(res: ServerResponse, status: number, error: Record<string, string>, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ errors: [error] });
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function waitFor(res: ServerResponse, event: 'drain' | 'close'): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = (): void => {
      res.off(event, done);
      res.off('close', done);
      resolve();
    };
    res.on(event, done);
    res.on('close', done);
  });
}

/** Sleeps, waking early when the response closes. */
function sleep(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.on('close', done);
  });
}
