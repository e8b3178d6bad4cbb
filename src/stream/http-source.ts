import type { IncomingHttpHeaders } from 'node:http';
import { EnvHttpProxyAgent, getGlobalDispatcher, interceptors, type Dispatcher } from 'undici';

/**
 * One streaming GET, read chunk by chunk with bounded buffering.
 *
 * Built on undici's dispatch handlers rather than a body Readable on purpose: when a stream
 * breaks, a destroyed Readable drops the chunks it had buffered but not yet handed out, and
 * those are whole records the source will not send again (they are older than the resume
 * point). Here every received chunk is queued, in order, before the error that ended the
 * connection, so the reader sees all bytes that arrived. Past `maxBufferedBytes` the socket is
 * paused until the reader catches up (backpressure reaches the source through TCP).
 */
export interface HttpStream {
  status: number;
  headers: IncomingHttpHeaders;
  /**
   * The next chunk; null once the response ended cleanly; undefined if nothing arrived within
   * `waitMs` (when given). Rejects with the connection's error after the chunks before it.
   * A timer is armed only while actually waiting: racing every read against one long-lived
   * timer promise would keep each chunk reachable (through the race's reaction) until it fires.
   */
  next(waitMs?: number): Promise<Buffer | null | undefined>;
  /** Aborts the request (idempotent). */
  close(): void;
}

export interface OpenOptions {
  dispatcher?: Dispatcher;
  /** Fail if the status line and headers take longer than this. */
  headersTimeoutMs: number;
  maxBufferedBytes?: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;

/** Never proxied: a proxy elsewhere cannot reach this machine's loopback. */
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/**
 * A dispatcher through the proxy that HTTP_PROXY / HTTPS_PROXY (or their lower-case forms) name,
 * honouring NO_PROXY as curl does, loopback hosts always direct; undefined when no proxy is set.
 * The caller closes it when done.
 */
export function proxyDispatcher(env: NodeJS.ProcessEnv = process.env): Dispatcher | undefined {
  const httpProxy = env.http_proxy ?? env.HTTP_PROXY;
  const httpsProxy = env.https_proxy ?? env.HTTPS_PROXY;
  if (!httpProxy && !httpsProxy) return undefined;
  const given = (env.no_proxy ?? env.NO_PROXY ?? '').trim();
  return new EnvHttpProxyAgent({
    ...(httpProxy ? { httpProxy } : {}),
    ...(httpsProxy ? { httpsProxy } : {}),
    noProxy: given === '*' ? '*' : [given, ...LOOPBACK].filter(Boolean).join(','),
  });
}

export function openHttpStream(url: string, options: OpenOptions): Promise<HttpStream> {
  const target = new URL(url);
  // Redirects are followed (an http:// URL moved to https://, a stream behind a load balancer).
  const dispatcher = (options.dispatcher ?? getGlobalDispatcher()).compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTS }));
  const max = options.maxBufferedBytes ?? 1024 * 1024;
  const queue: Buffer[] = [];
  let queued = 0;
  let end: { error?: Error } | undefined;
  let wake: (() => void) | undefined;
  let controller: Dispatcher.DispatchController | undefined;
  let abortReason: Error | undefined;

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const close = (): void => {
    abortReason ??= new Error('request closed by the reader');
    if (controller && !controller.aborted) controller.abort(abortReason);
  };

  return new Promise<HttpStream>((resolve, reject) => {
    let started = false;
    const onAbort = (): void => close();
    if (options.signal?.aborted) return reject(options.signal.reason ?? new Error('aborted'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const stream = (status: number, headers: IncomingHttpHeaders): HttpStream => ({
      status,
      headers,
      close,
      next: async (waitMs) => {
        for (;;) {
          const chunk = queue.shift();
          if (chunk) {
            queued -= chunk.length;
            if (controller?.paused && queued <= max / 2) controller.resume();
            return chunk;
          }
          if (end) {
            if (end.error) throw end.error;
            return null;
          }
          const woke = await new Promise<boolean>((r) => {
            const timer =
              waitMs === undefined
                ? undefined
                : setTimeout(() => {
                    wake = undefined;
                    r(false);
                  }, waitMs);
            wake = () => {
              clearTimeout(timer);
              r(true);
            };
          });
          if (!woke) return undefined;
        }
      },
    });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (abortReason) c.abort(abortReason);
      },
      onResponseStart(_c, statusCode, headers) {
        if (statusCode < 200) return; // 1xx informational
        started = true;
        resolve(stream(statusCode, headers));
      },
      onResponseData(c, chunk) {
        queue.push(chunk);
        queued += chunk.length;
        if (queued > max && !c.paused) c.pause();
        notify();
      },
      onResponseEnd() {
        end = {};
        options.signal?.removeEventListener('abort', onAbort);
        notify();
      },
      onResponseError(_c, error) {
        end = { error };
        options.signal?.removeEventListener('abort', onAbort);
        if (!started) reject(error);
        notify();
      },
    };
    dispatcher.dispatch(
      {
        origin: target.origin,
        path: target.pathname + target.search,
        method: 'GET',
        headers: options.headers ?? {},
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: 0, // stalls are the reader's to judge: it knows when it is pausing on purpose
      },
      handler,
    );
  });
}
