/**
 * Reconnect timing: exponential backoff with full jitter (a uniformly random wait between 0
 * and min(max, initial·2^attempt), which spreads reconnecting clients apart), and the server's
 * Retry-After when it sends one.
 */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** The wait before reconnect attempt `attempt` (0 for the first retry). `random` returns [0, 1). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * Parses a Retry-After header: delay-seconds or an HTTP date. Undefined when absent or
 * unparseable; never negative.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (/^\d+\.\d+$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * The wait after a refused or failed connection: the server's Retry-After when given (never
 * shorter; a cap keeps a bogus far-future date from parking the streamer for days), otherwise
 * the jittered backoff.
 */
export function reconnectDelayMs(
  attempt: number,
  policy: BackoffPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const jittered = backoffDelayMs(attempt, policy, random);
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/** The longest Retry-After honoured: one hour. */
export const MAX_RETRY_AFTER_MS = 3_600_000;
