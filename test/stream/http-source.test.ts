import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { openHttpStream, proxyDispatcher } from '../../src/stream/http-source.ts';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/s`;
}

describe('openHttpStream', () => {
  it('hands out every byte received before the connection broke, then the error', async () => {
    // Given a server that writes 2,000 lines in many small writes and then drops the connection mid-stream
    const lines = Array.from({ length: 2000 }, (_, i) => `{"id":"${i}","pad":"${'x'.repeat(i % 300)}"}\n`);
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let i = 0;
      const more = (): void => {
        while (i < lines.length) if (!res.write(lines[i++]!)) return void res.once('drain', more);
        res.write('', () => res.socket?.destroy()); // no terminating chunk: a broken stream
      };
      more();
    });

    // When a slow reader reads it to the end
    const stream = await openHttpStream(url, { headersTimeoutMs: 5000, maxBufferedBytes: 64 * 1024 });
    const chunks: Buffer[] = [];
    let error: unknown;
    for (;;) {
      try {
        const chunk = await stream.next();
        if (chunk === null) break;
        chunks.push(chunk!);
        await new Promise((r) => setTimeout(r, 1));
      } catch (e) {
        error = e;
        break;
      }
    }

    // Then it got all the bytes, in order, and then the error
    expect(Buffer.concat(chunks).toString()).toBe(lines.join(''));
    expect(error).toBeInstanceOf(Error);
  });

  it('pauses the socket while the reader is behind, so a fast source cannot fill memory', async () => {
    // Given a server that would send 200 MB as fast as the socket takes it
    const block = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    const url = await listen((_req, res) => {
      res.writeHead(200);
      const more = (): void => {
        while (written < 200 * 1024 * 1024) {
          written += block.length;
          if (!res.write(block)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });

    // When the reader takes one chunk and then does not read for half a second
    const stream = await openHttpStream(url, { headersTimeoutMs: 5000, maxBufferedBytes: 1024 * 1024 });
    await stream.next();
    await new Promise((r) => setTimeout(r, 500));

    // Then the server could only write what the reader's bounded queue and the socket buffers hold
    expect(written).toBeLessThan(32 * 1024 * 1024);
    stream.close();
  });

  it('answers undefined when nothing arrives within waitMs, and still hands out what comes later', async () => {
    // Given a server that sends one line, waits 300 ms, sends another and ends
    const url = await listen((_req, res) => {
      res.writeHead(200);
      res.write('{"a":1}\n');
      setTimeout(() => res.end('{"b":2}\n'), 300);
    });
    const stream = await openHttpStream(url, { headersTimeoutMs: 5000 });

    // When the reader waits at most 50 ms at a time
    const seen: Array<string | null | undefined> = [];
    for (;;) {
      const chunk = await stream.next(50);
      seen.push(chunk === undefined || chunk === null ? chunk : chunk.toString());
      if (chunk === null) break;
    }

    // Then it saw the first line, some empty waits, the second line, and the end
    const data = seen.filter((c): c is string => typeof c === 'string').join('');
    expect(data).toBe('{"a":1}\n{"b":2}\n');
    const idle = seen.filter((c) => c === undefined).length;
    expect(idle).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toBeNull();
  });

  it('keeps no reference to a chunk once it is handed out, even while a wait is pending', async () => {
    // Given a stream whose reader takes a chunk and then waits (a long wait timer pending)
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    let release: (() => void) | undefined;
    const url = await listen((_req, res) => {
      res.writeHead(200);
      res.write(`{"pad":"${'x'.repeat(4000)}"}\n`);
      release = () => res.end();
    });
    const stream = await openHttpStream(url, { headersTimeoutMs: 5000 });
    // (taken in its own function, so no frame of this test holds the chunk)
    const taken = async (): Promise<WeakRef<Buffer>> => new WeakRef((await stream.next(60_000))!);
    const ref = await taken();
    const waiting = stream.next(60_000);
    await new Promise((r) => setTimeout(r, 20));

    // When the garbage collector runs
    gc();

    // Then the chunk is gone (a reader racing every read against one long-lived timer promise
    // kept each chunk reachable until that timer fired: 100 MB at 100 MB/s)
    expect(ref.deref()).toBeUndefined();
    release!();
    expect(await waiting).toBeNull();
  });

  it('follows redirects to the stream', async () => {
    // Given a stream that has moved (the first request is redirected, relative Location)
    const url = await listen((req, res) => {
      if (req.url === '/s') return void res.writeHead(302, { location: '/2/open_events?since_count=1' }).end();
      res.writeHead(200);
      res.end(`{"url":"${req.url}"}\n`);
    });
    // When it is opened at its old address
    const stream = await openHttpStream(url, { headersTimeoutMs: 5000 });
    const chunks: Buffer[] = [];
    for (let c = await stream.next(); c; c = await stream.next()) chunks.push(c);
    // Then the body is the new address's
    expect(stream.status).toBe(200);
    expect(Buffer.concat(chunks).toString()).toBe('{"url":"/2/open_events?since_count=1"}\n');
  });

  it('goes through the proxy HTTP_PROXY names (a CONNECT tunnel), and around it for NO_PROXY and loopback hosts', async () => {
    // Given a stream on 127.0.0.2 (loopback too, but not a name the bypass list knows) and a
    // tunnelling proxy that records what it was asked to connect to
    server = createServer((_req, res) => {
      res.writeHead(200);
      res.end('{"a":1}\n');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.2', r));
    const port = (server.address() as AddressInfo).port;
    const tunnels: string[] = [];
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url ?? '');
      const [host, p] = (req.url ?? '').split(':');
      const upstream = connect(Number(p), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const read = async (url: string, env: NodeJS.ProcessEnv): Promise<string> => {
      const dispatcher = proxyDispatcher(env);
      const stream = await openHttpStream(url, { headersTimeoutMs: 5000, ...(dispatcher ? { dispatcher } : {}) });
      const chunks: Buffer[] = [];
      for (let c = await stream.next(); c; c = await stream.next()) chunks.push(c);
      await dispatcher?.close();
      return Buffer.concat(chunks).toString();
    };
    try {
      // When it is read with HTTP_PROXY set, then with NO_PROXY naming its host, then by a loopback name
      expect(proxyDispatcher({})).toBeUndefined();
      expect(await read(`http://127.0.0.2:${port}/s`, { HTTP_PROXY })).toBe('{"a":1}\n');
      expect(tunnels).toEqual([`127.0.0.2:${port}`]);
      expect(await read(`http://127.0.0.2:${port}/s`, { HTTP_PROXY, NO_PROXY: 'example.org, 127.0.0.2' })).toBe('{"a":1}\n');
      await expect(read(`http://localhost:${port}/s`, { HTTP_PROXY })).rejects.toThrow(); // direct: nothing listens on localhost's 127.0.0.1
      // Then only the first went through the proxy
      expect(tunnels).toEqual([`127.0.0.2:${port}`]);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});
