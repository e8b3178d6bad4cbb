import { connect } from 'node:net';
import { afterEach } from 'vitest';
import { startSourceServer, type SourceServer, type SourceServerOptions } from '../../src/source/server.ts';

/** What a stream client saw. */
export interface StreamRead {
  status: number;
  headers: Headers;
  /** Complete lines (without newline), in order. */
  lines: string[];
  /** Bytes after the last newline when the stream ended (a cut line). */
  rest: string;
  /** How the read ended: enough lines, nothing new for idleMs, time up (forMs), or the server closed/cut the stream. */
  end: 'enough' | 'idle' | 'time' | 'closed' | 'error';
}

/**
 * Reads an open_events stream with fetch (undici) until `lines` complete lines arrived, nothing
 * arrived for `idleMs`, `forMs` passed, or the server ended the response; then aborts the request.
 */
export async function readStream(url: string, options: { lines?: number; idleMs?: number; forMs?: number } = {}): Promise<StreamRead> {
  const want = options.lines ?? Number.POSITIVE_INFINITY;
  const idleMs = options.idleMs ?? 500;
  const deadline = Date.now() + (options.forMs ?? Number.POSITIVE_INFINITY);
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal });
  const lines: string[] = [];
  let rest = '';
  let end: StreamRead['end'] = 'closed';
  if (!res.body) return { status: res.status, headers: res.headers, lines, rest, end };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const wait = Math.min(idleMs, deadline - Date.now());
      const idle = new Promise<'idle' | 'time'>((resolve) => (timer = setTimeout(() => resolve(wait < idleMs ? 'time' : 'idle'), Math.max(0, wait))));
      const next = await Promise.race([reader.read(), idle]);
      clearTimeout(timer);
      if (next === 'idle' || next === 'time') {
        end = next;
        break;
      }
      if (next.done) break;
      rest += decoder.decode(next.value, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf('\n')) !== -1 && lines.length < want) {
        lines.push(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
      if (lines.length >= want) {
        end = 'enough';
        break;
      }
    }
  } catch {
    end = 'error';
  } finally {
    abort.abort();
    await reader.cancel().catch(() => {});
  }
  return { status: res.status, headers: res.headers, lines, rest, end };
}

/** The raw bytes of an HTTP exchange over a plain socket, for checking the framing itself. */
export function rawRequest(url: string, options: { request?: string; readMs: number }): Promise<Buffer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    const finish = (): void => {
      socket.destroy();
      resolve(Buffer.concat(chunks));
    };
    const timer = setTimeout(finish, options.readMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => {
      clearTimeout(timer);
      finish();
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      if (chunks.length) finish();
      else reject(error);
    });
    socket.write(options.request ?? `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
  });
}

/** Decodes an HTTP/1.1 chunked body; throws on bad framing. Returns the body and the chunk sizes. */
export function decodeChunked(body: Buffer): { data: Buffer; chunks: number[]; complete: boolean } {
  const parts: Buffer[] = [];
  const chunks: number[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) return { data: Buffer.concat(parts), chunks, complete: false };
    const sizeText = body.subarray(at, eol).toString('latin1').split(';')[0]!;
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size line "${sizeText}" at byte ${at}`);
    const size = parseInt(sizeText, 16);
    if (size === 0) return { data: Buffer.concat(parts), chunks, complete: true };
    if (eol + 2 + size + 2 > body.length) return { data: Buffer.concat(parts), chunks, complete: false };
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    chunks.push(size);
    if (body.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n') throw new Error(`chunk of ${size} bytes not followed by CRLF`);
    at = eol + 4 + size;
  }
}

/**
 * Starts source servers for a test file and closes them after each test:
 * `const serve = useServers(); const server = await serve({ generate: {...} });`
 */
export function useServers(): (options: SourceServerOptions) => Promise<SourceServer> {
  const servers: SourceServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  return async (options) => {
    const server = await startSourceServer(options);
    servers.push(server);
    return server;
  };
}
