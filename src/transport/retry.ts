import { setTimeout as pause } from 'node:timers/promises';
import { UserError } from '../errors.ts';
import { backoffDelayMs, type BackoffPolicy } from '../stream/backoff.ts';

/** Backoff between retries after throttling or a transient failure: full jitter from 100 ms, up to 5 s. */
export const RETRY_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000 };

/**
 * What a failed call to Kinesis or Firehose means for the records in it — the question the
 * user-error mapping (who can fix it) does not answer: were they stored?
 *
 * - `throttled`: refused before anything was stored (ProvisionedThroughputExceeded, a rate
 *   limit, Firehose's ServiceUnavailableException): send again, after a backoff with jitter.
 * - `not-sent`: the request never reached the service (connection refused): send again.
 * - `ambiguous`: the request may or may not have been applied (a connection dropped after it was
 *   sent, a timeout, an internal error answered by the service): find out before sending again,
 *   or accept a possible duplicate.
 * - `fatal`: no retry helps (no such stream, access denied, no credentials, an invalid request).
 */
export type FailureKind = 'throttled' | 'not-sent' | 'ambiguous' | 'fatal';

/** Error names that say "slow down": nothing was stored. */
const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'KMSThrottlingException',
  'SlowDown',
  // Firehose's answer when a delivery stream's throughput limits are exceeded (HTTP 503).
  'ServiceUnavailableException',
]);

/** Network failures where the request certainly did not reach the service. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Classifies a failed call (see FailureKind). */
export function classifyFailure(error: unknown): FailureKind {
  // A failure the user must fix (the client factory maps those); a network failure may come
  // wrapped as one ("cannot reach …"), and is judged by what it wraps.
  if (error instanceof UserError) {
    const cause = (error as { cause?: unknown }).cause;
    if (cause !== undefined && cause !== error && isNetworkError(cause)) return classifyFailure(cause);
    return 'fatal';
  }
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } } | null;
  if (!e || typeof e !== 'object') return 'fatal';
  const name = typeof e.name === 'string' ? e.name : '';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLED.has(name) || status === 429) return 'throttled';
  const code = networkCode(error);
  if (code && NOT_SENT.has(code)) return 'not-sent';
  if (status !== undefined && status >= 500) return 'ambiguous';
  if (status !== undefined && status >= 400) return 'fatal';
  if (/CredentialsProviderError|ProviderError|TokenProviderError/.test(name)) return 'fatal';
  // No answer at all (reset, timeout, a body cut short): the request may have been applied.
  return 'ambiguous';
}

/** True when the error (or what it wraps) is a socket-level failure. */
export function isNetworkError(error: unknown): boolean {
  const code = networkCode(error);
  if (code) return true;
  const name = (error as { name?: unknown })?.name;
  return name === 'TimeoutError' || name === 'RequestTimeout';
}

function networkCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; errors?: Array<{ code?: unknown }>; cause?: { code?: unknown } } | null;
  if (!e || typeof e !== 'object') return undefined;
  for (const c of [e.code, e.cause?.code, ...(Array.isArray(e.errors) ? e.errors.map((x) => x?.code) : [])]) {
    if (typeof c === 'string' && /^E[A-Z_]+$/.test(c)) return c;
  }
  return undefined;
}

/** The error's name and message in one short line, for logs (never holds credentials: SDK messages do not). */
export function describeFailure(error: unknown): string {
  const e = error as { name?: unknown; message?: unknown; code?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message.replace(/\s+/g, ' ').slice(0, 200) : String(error);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? ` (${e.code})` : '';
  return `${name}: ${message}${code}`;
}

/**
 * Runs `call`, retrying throttled and transient failures with backoff (`attempts` in all): for the
 * reads around the puts (describe, list), made with clients that do not retry by themselves.
 */
export async function retrying<T>(call: () => Promise<T>, options: { attempts?: number; random?: () => number } = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt + 1 >= attempts || classifyFailure(error) === 'fatal') throw error;
      await sleep(backoffDelayMs(attempt, RETRY_BACKOFF, options.random));
    }
  }
}

/** Waits `ms`, or until `signal` aborts (then resolves at once). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await pause(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}
