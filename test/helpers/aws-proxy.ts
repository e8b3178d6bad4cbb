import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Rng } from '../../src/source/random.ts';

/**
 * A real HTTP reverse proxy between the toolkit and moto_server that sees every AWS request and
 * plays the world's faults, which emulators never produce. Point a client at `endpoint`
 * (AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_<SERVICE>). In order of precedence:
 *
 * - `mode`: an outage — 'drop' destroys each connection, '503' answers ServiceUnavailable.
 * - `intercept`: a scripted answer for the requests it returns one for (e.g. real AWS's refusal
 *   of a public bucket policy under Block Public Access, which emulators accept).
 * - `setRules()`: faults by service and operation, on given requests or at random (seeded):
 *   PutRecords / PutRecordBatch answers with per-entry ErrorCodes (the failed entries are not
 *   stored: only the others are forwarded), whole calls refused for throughput
 *   (ProvisionedThroughputExceededException, Firehose's ServiceUnavailableException), S3 503
 *   SlowDown, expired shard iterators, internal errors after the request was applied, and
 *   connections dropped before the request is forwarded or after moto answered it (the answer
 *   is lost, the request applied).
 *
 * Kinesis calls are forwarded one at a time: moto numbers a shard's records without a lock, so
 * concurrent PutRecords to one shard lose records there (not on AWS).
 */
export interface AwsProxy {
  endpoint: string;
  /** Every request seen, in order (empty with `keepRequests: false`). */
  readonly requests: ProxiedRequest[];
  /** 'up' forwards; 'drop' destroys each connection; '503' answers ServiceUnavailable. */
  mode: 'up' | 'drop' | '503';
  /** Answers a request itself when it returns a response (status, headers, body); forwards otherwise. */
  intercept: ((req: ProxiedRequest) => Promise<FakeResponse | undefined> | FakeResponse | undefined) | undefined;
  /** Requests seen by "service.operation" (e.g. 'kinesis.PutRecords'), kept even without `keepRequests`. */
  calls(name: string): number;
  /** Faults injected by rules, by "service.operation:fault". */
  readonly injected: Record<string, number>;
  /** Entries failed by `partial` faults. */
  readonly failedEntries: number;
  /** Replaces the fault rules (an empty list: none). */
  setRules(rules: FaultRule[]): void;
  close(): Promise<void>;
}

export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingMessage['headers'];
  /** X-Amz-Target of JSON protocols (e.g. 'Logs_20140328.PutLogEvents'), if any. */
  target: string | undefined;
  /** The service of the SigV4 credential scope ('s3', 'kinesis', 'firehose', 'logs', …). */
  service: string;
  /** The operation: from X-Amz-Target, or for S3 from the method and URL ('PutObject', 'ListObjectsV2', …). */
  operation: string;
  body: Buffer;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type FaultKind =
  /** PutRecords / PutRecordBatch: some entries fail with an ErrorCode and are not stored. */
  | 'partial'
  /** The whole call is refused for throughput (nothing stored). */
  | 'throttle'
  /** S3: 503 SlowDown (nothing stored). */
  | 'slowdown'
  /** The connection is closed before the request reaches moto. */
  | 'drop-before'
  /** moto applies the request, then the connection is closed instead of answering. */
  | 'drop-after'
  /** GetRecords: ExpiredIteratorException. */
  | 'expired-iterator'
  /** A 500 answer after moto applied the request. */
  | 'internal-error';

export interface FaultRule {
  /** As in ProxiedRequest.service. */
  service: string;
  /** The operation (PutRecords, GetRecords, PutRecordBatch, PutObject, GetObject, ListObjectsV2, …); any when absent. */
  operation?: string;
  fault: FaultKind;
  /** The matching requests (1-based, counted per service and operation) that get the fault; else by `probability`. */
  on?: number[];
  /** Share of matching requests that get the fault (default 1). */
  probability?: number;
  /** For `partial`: share of the entries that fail (default 0.3; at least one). */
  entryShare?: number;
  /** Inject at most this many times. */
  limit?: number;
  /** Let this many matching requests through before the first injection. */
  after?: number;
}

export interface AwsProxyOptions {
  rules?: FaultRule[];
  /** Seed of the rules' random choices (default 1). */
  seed?: number;
  /** Keep every request with its body in `requests` (default true; a benchmark moving many MB turns it off). */
  keepRequests?: boolean;
}

/** Starts a proxy to `upstream` (e.g. moto's endpoint) on a free port of 127.0.0.1. */
export async function startAwsProxy(upstream: string, options: AwsProxyOptions = {}): Promise<AwsProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const sockets = new Set<Socket>();
  const rng = new Rng(options.seed ?? 1);
  const random = (): number => rng.next();
  const counts: Record<string, number> = {};
  const ruleState = new Map<FaultRule, { seen: number; fired: number }>();
  let rules = options.rules ?? [];
  let failedEntries = 0;
  let kinesisQueue: Promise<unknown> = Promise.resolve();

  const proxy: AwsProxy = {
    endpoint: '',
    requests: [],
    mode: 'up',
    intercept: undefined,
    calls: (name) => counts[name] ?? 0,
    injected: {},
    get failedEntries() {
      return failedEntries;
    },
    setRules(next) {
      rules = next;
      ruleState.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const { service, operation } = identify(req);
    const seen: ProxiedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      target: typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : undefined,
      service,
      operation,
      body,
    };
    if (options.keepRequests !== false) proxy.requests.push(seen);
    const name = `${service}.${operation}`;
    counts[name] = (counts[name] ?? 0) + 1;
    if (proxy.mode === 'drop') return void req.socket.destroy();
    if (proxy.mode === '503') return json(res, 503, { __type: 'ServiceUnavailableException', message: 'Service is unavailable (proxy)' });
    const fake = await proxy.intercept?.(seen);
    if (fake) {
      res.writeHead(fake.status, fake.headers ?? {});
      res.end(fake.body ?? '');
      return;
    }
    const rule = choose(service, operation, counts[name]);
    const run = async (): Promise<void> => {
      if (!rule) return relay(req, res, body);
      proxy.injected[`${name}:${rule.fault}`] = (proxy.injected[`${name}:${rule.fault}`] ?? 0) + 1;
      switch (rule.fault) {
        case 'drop-before':
          return void req.socket.destroy();
        case 'drop-after':
          await forward(req, body);
          return void req.socket.destroy();
        case 'throttle':
          if (service === 'firehose') return json(res, 503, { __type: 'ServiceUnavailableException', message: 'Slow down.' });
          return json(res, 400, { __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard shardId-000000000000 in stream under account 123456789012.' });
        case 'slowdown':
          return xml(res, 503, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>');
        case 'expired-iterator':
          return json(res, 400, {
            __type: 'ExpiredIteratorException',
            message: 'Iterator expired. The iterator was created at time ... while right now it is ... which is further in the future than the tolerated delay of 300000 milliseconds.',
          });
        case 'internal-error':
          await forward(req, body);
          if (service === 's3') return xml(res, 500, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>');
          return json(res, 500, { __type: 'InternalFailure', message: 'Internal service failure.' });
        case 'partial':
          return partial(res, req, body, service, rule);
      }
    };
    // moto numbers a shard's records without a lock: one Kinesis call at a time.
    if (service === 'kinesis') {
      const turn = kinesisQueue.then(run, run);
      kinesisQueue = turn.catch(() => undefined);
      return turn;
    }
    return run();
  }

  function choose(service: string, operation: string, ordinal: number): FaultRule | undefined {
    for (const rule of rules) {
      if (rule.service !== service || (rule.operation && rule.operation !== operation)) continue;
      if (rule.on) {
        if (rule.on.includes(ordinal)) return rule;
        continue;
      }
      const state = ruleState.get(rule) ?? { seen: 0, fired: 0 };
      ruleState.set(rule, state);
      state.seen++;
      if (state.seen <= (rule.after ?? 0)) continue;
      if (rule.limit !== undefined && state.fired >= rule.limit) continue;
      if (random() >= (rule.probability ?? 1)) continue;
      state.fired++;
      return rule;
    }
    return undefined;
  }

  /** PutRecords / PutRecordBatch with some entries failed: only the others reach moto. */
  async function partial(res: ServerResponse, req: IncomingMessage, body: Buffer, service: string, rule: FaultRule): Promise<void> {
    const input = JSON.parse(body.toString('utf8')) as { Records: unknown[] } & Record<string, unknown>;
    const share = rule.entryShare ?? 0.3;
    const fail = input.Records.map(() => random() < share);
    if (!fail.some(Boolean)) fail[Math.floor(random() * fail.length)] = true;
    const kept = input.Records.filter((_, i) => !fail[i]);
    failedEntries += fail.filter(Boolean).length;
    let answers: Array<Record<string, unknown>> = [];
    if (kept.length > 0) {
      const out = await forward(req, Buffer.from(JSON.stringify({ ...input, Records: kept })));
      if (out.status !== 200) return send(res, out.status, out.headers, out.body);
      const parsed = JSON.parse(out.body.toString('utf8')) as { Records?: Array<Record<string, unknown>>; RequestResponses?: Array<Record<string, unknown>> };
      answers = (service === 'kinesis' ? parsed.Records : parsed.RequestResponses) ?? [];
    }
    let k = 0;
    const merged = fail.map((failed) =>
      failed
        ? service === 'kinesis'
          ? { ErrorCode: random() < 0.8 ? 'ProvisionedThroughputExceededException' : 'InternalFailure', ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream under account 123456789012.' }
          : { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' }
        : answers[k++]!,
    );
    const failed = fail.filter(Boolean).length;
    return json(res, 200, service === 'kinesis' ? { FailedRecordCount: failed, Records: merged } : { FailedPutCount: failed, Encrypted: false, RequestResponses: merged });
  }

  async function forward(req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    return new Promise((resolve, reject) => {
      const out = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (answer) => {
        void readBody(answer).then((b) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: b }), reject);
      });
      out.on('error', reject);
      out.end(body);
    });
  }

  async function relay(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const out = await forward(req, body);
    send(res, out.status, out.headers, out.body, req.method === 'HEAD');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/** The service (from the SigV4 credential scope) and operation of a request. */
function identify(req: IncomingMessage): { service: string; operation: string } {
  const auth = String(req.headers.authorization ?? '');
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  const target = String(req.headers['x-amz-target'] ?? '');
  const service = scope?.[1] ?? (target.startsWith('Kinesis_') ? 'kinesis' : target.startsWith('Firehose_') ? 'firehose' : 's3');
  if (target) return { service, operation: target.slice(target.indexOf('.') + 1) };
  const url = new URL(req.url ?? '/', 'http://x');
  const hasKey = url.pathname.split('/').filter(Boolean).length > 1;
  const q = url.searchParams;
  const method = req.method ?? 'GET';
  let operation = `${method} ${hasKey ? 'object' : 'bucket'}`;
  if (method === 'PUT' && hasKey) operation = q.has('partNumber') ? 'UploadPart' : req.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
  else if (method === 'POST' && hasKey) operation = q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : 'PostObject';
  else if (method === 'GET' && hasKey) operation = 'GetObject';
  else if (method === 'GET') operation = q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
  else if (method === 'HEAD') operation = hasKey ? 'HeadObject' : 'HeadBucket';
  else if (method === 'DELETE') operation = hasKey ? (q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject') : 'DeleteBucket';
  else if (method === 'PUT') operation = 'CreateBucket';
  return { service, operation };
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Sends a buffered answer (a HEAD answer keeps its Content-Length: the size of what a GET would return). */
function send(res: ServerResponse, status: number, headers: http.IncomingHttpHeaders, body: Buffer, head = false): void {
  const out: http.OutgoingHttpHeaders = head ? { ...headers } : { ...headers, 'content-length': String(body.length) };
  delete out['transfer-encoding'];
  delete out.connection;
  res.writeHead(status, out);
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': String(body.length), 'x-amzn-requestid': 'aws-proxy' });
  res.end(body);
}

function xml(res: ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text);
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(body.length), 'x-amz-request-id': 'aws-proxy' });
  res.end(body);
}
