import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openHttpStream } from '../../src/stream/http-source.ts';

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
        chunks.push(chunk);
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
});
