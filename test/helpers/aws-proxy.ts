import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A reverse proxy between the toolkit and moto_server that sees every AWS request and can play
 * the world's faults: an outage (connections dropped, or 503 answers), or a scripted answer for
 * requests that match (e.g. real AWS's refusal of a public bucket policy under Block Public
 * Access, which emulators accept). Point a client at `endpoint` (AWS_ENDPOINT_URL_<SERVICE>).
 */
export interface AwsProxy {
  endpoint: string;
  /** Every request forwarded or answered, in order. */
  readonly requests: ProxiedRequest[];
  /** 'up' forwards; 'drop' destroys each connection; '503' answers ServiceUnavailable. */
  mode: 'up' | 'drop' | '503';
  /** Answers a request itself when it returns a response (status, headers, body); forwards otherwise. */
  intercept: ((req: ProxiedRequest) => Promise<FakeResponse | undefined> | FakeResponse | undefined) | undefined;
  close(): Promise<void>;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  /** X-Amz-Target of JSON protocols (e.g. 'Logs_20140328.PutLogEvents'), if any. */
  target: string | undefined;
  body: Buffer;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** Starts a proxy to `upstream` (e.g. moto's endpoint) on a free port of 127.0.0.1. */
export async function startAwsProxy(upstream: string): Promise<AwsProxy> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  const proxy: AwsProxy = {
    endpoint: '',
    requests: [],
    mode: 'up',
    intercept: undefined,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const seen: ProxiedRequest = {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          target: typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : undefined,
          body: Buffer.concat(chunks),
        };
        proxy.requests.push(seen);
        if (proxy.mode === 'drop') {
          req.socket.destroy();
          return;
        }
        if (proxy.mode === '503') {
          res.writeHead(503, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ServiceUnavailableException', message: 'Service is unavailable (proxy)' }));
          return;
        }
        const fake = await proxy.intercept?.(seen);
        if (fake) {
          res.writeHead(fake.status, fake.headers ?? {});
          res.end(fake.body ?? '');
          return;
        }
        const headers = { ...req.headers, host: target.host };
        const up = request({ hostname: target.hostname, port: target.port, method: seen.method, path: seen.url, headers }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(seen.body);
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
