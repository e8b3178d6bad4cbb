/**
 * The one home of redaction: what keeps credentials, session tokens and tokens in URLs out of
 * output, telemetry, checkpoints, job records and error messages. Everything that leaves the
 * process as text goes through one of these (telemetry sinks, the CLI's error handler, the
 * streamer's URL in logs and checkpoints).
 */

/** What a secret is replaced with. */
export const REDACTED = '***';

// Query parameter names that carry a secret: tokens, keys, signatures (Meetup's signed stream
// URLs used `sig`), passwords, SigV4 presigned parameters (X-Amz-Signature, -Credential, -Security-Token).
const SECRET_PARAM = /token|secret|passw|pwd|key|sig|auth|credential|session|cookie|code|ticket/i;
// Object keys whose value is a secret whatever it looks like (not plain `key`: an S3 object key is data).
const SECRET_FIELD = /token|secret|passw|pwd|api[-_]?key|access[-_]?key|private[-_]?key|authorization|credential|cookie|signature/i;
// A URL inside free text (stops at whitespace, quotes and brackets that end it in prose and JSON).
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
// AWS access key ids (long-term AKIA, temporary ASIA, and the other principal prefixes).
const ACCESS_KEY_ID = /\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g;
// `name=value` / `name: value` pairs that name a secret (env dumps, headers, INI lines).
const SECRET_ASSIGNMENT =
  /\b((?:aws_)?(?:secret_access_key|session_token|security_token)|x-amz-security-token|x-amz-signature|authorization|password|passwd|api[-_]?key|access[-_]?token|refresh[-_]?token|client[-_]?secret)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;]+)/gi;
// Environment variables whose values must never be printed verbatim, wherever they turn up.
const SECRET_ENV = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN', 'AWS_ACCESS_KEY_ID', 'AWS_BEARER_TOKEN_BEDROCK'];

/**
 * A URL with its secrets replaced: user and password, and the values of query parameters whose
 * names say they are secret (token, key, sig, signature, password, X-Amz-Security-Token…).
 * Text that is not a URL is returned as `redactText` leaves it.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactKnownSecrets(url);
  }
  let changed = false;
  if (u.username || u.password) {
    u.username = 'redacted';
    u.password = '';
    changed = true;
  }
  for (const name of new Set(u.searchParams.keys())) {
    if (!SECRET_PARAM.test(name) || /^since_/.test(name)) continue;
    u.searchParams.set(name, REDACTED);
    changed = true;
  }
  if (!changed) return redactKnownSecrets(url);
  // URLSearchParams encodes '*' as %2A: show the marker as written.
  return redactKnownSecrets(u.toString().replaceAll('%2A%2A%2A', REDACTED).replace('//redacted@', `//${REDACTED}@`));
}

/**
 * Free text (an error message, a log line, a stack) with every secret replaced: URLs as
 * `redactUrl` does, AWS access key ids, `secret=value` style assignments, and the values of this
 * process's AWS credential variables wherever they appear.
 */
export function redactText(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const out = text
    .replace(URL_IN_TEXT, (url) => redactUrl(url))
    .replace(SECRET_ASSIGNMENT, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`)
    .replace(ACCESS_KEY_ID, REDACTED);
  return redactKnownSecrets(out, env);
}

/**
 * A value (a telemetry record's data, a job record, a checkpoint) with secrets replaced:
 * fields named like a secret lose their value, strings go through `redactText`. Returns a copy;
 * the input is not changed.
 */
export function redactValue<T>(value: T, env: NodeJS.ProcessEnv = process.env): T {
  return walk(value, env, 0) as T;
}

function walk(value: unknown, env: NodeJS.ProcessEnv, depth: number): unknown {
  if (typeof value === 'string') return redactText(value, env);
  if (value === null || typeof value !== 'object' || depth > 20) return value;
  if (Array.isArray(value)) return value.map((v) => walk(v, env, depth + 1));
  if (value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // (only strings: a count named `tokens` is not a secret)
    out[k] = SECRET_FIELD.test(k) && typeof v === 'string' && v !== '' ? REDACTED : walk(v, env, depth + 1);
  }
  return out;
}

function redactKnownSecrets(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = text;
  for (const name of SECRET_ENV) {
    const secret = env[name];
    // Short values would redact ordinary words; real keys and tokens are long.
    if (secret && secret.length >= 12 && out.includes(secret)) out = out.replaceAll(secret, REDACTED);
  }
  return out;
}
