import { UserError } from '../errors.ts';
import { hash01 } from './random.ts';

/** The kinds of bad line a source can inject; each is an extra line, never a replacement. */
export type InjectedKind = 'malformed' | 'invalid' | 'truncated' | 'oversized' | 'cut';

/** How often a per-event fault fires: with a probability, or after every n-th live event. */
export type Frequency = { probability: number } | { every: number };

/**
 * Faults a source server injects (`--faults`). Parsed from a spec such as
 * `disconnect:500,stall:1000:3000,status:503:every=3:retry=1,malformed:0.01`.
 */
export interface FaultSpec {
  /** Close the connection after every n live events on it. */
  disconnect?: number;
  /** With disconnect: cut the connection in the middle of the next record instead of between records. */
  disconnectMidLine?: boolean;
  /** Cut each connection after a byte budget drawn per connection from [min, max] (wherever that falls: mid-record, mid-character). */
  cut?: { min: number; max: number };
  /** After every n live events, send nothing for ms (the connection stays open). */
  stall?: { every: number; ms: number };
  /** Answer every `every`-th connection (every, 2·every, …) with this HTTP status and Retry-After. */
  status?: Array<{ code: 429 | 503; every: number; retryAfterSec: number }>;
  /** After an event, a line that is not JSON. */
  malformed?: Frequency;
  /** After an event, a JSON object without a usable id/mtime. */
  invalid?: Frequency;
  /** After an event, a copy of it cut short (the event itself was sent whole just before). */
  truncated?: Frequency;
  /** After an event, a copy of it padded beyond 1 MiB (same id and mtime). */
  oversized?: Frequency;
  /** After an event, an exact copy of an earlier served line. */
  duplicate?: Frequency;
}

/** The `--faults` syntax, for --help and the README. */
export const FAULT_SPEC_HELP = `comma-separated faults:
  cut:<min>-<max>             close each connection after a byte budget drawn from [min, max] (bytes,
                              or with k/M suffixes: cut:4M-10M), wherever that falls: a network that
                              carries only so much per connection
  disconnect:<n>[:mid]        close the connection after every n events on it; with :mid, in the
                              middle of the next record (a live one is then sent whole first on the
                              next connection)
  stall:<n>:<ms>              after every n events, send nothing for ms (connection stays open)
  status:<429|503>[:every=<k>][:retry=<s>]
                              answer every k-th connection (k, 2k, ...; default 2) with that status
                              and Retry-After: s (default 1)
  malformed:<f>               after an event, a line that is not JSON
  invalid:<f>                 after an event, a JSON object without a usable id/mtime
  truncated:<f>               after an event, a copy of it cut short
  oversized:<f>               after an event, a copy of it padded beyond 1 MiB
  duplicate:<f>               after an event, an exact copy of an earlier served line
  <f> is a probability in (0, 1] (e.g. 0.01) or every=<n> (every n-th event).
Faults apply to since_* catch-up as to live events and are placed by --seed; line faults only add
lines (every event is also sent whole), cuts and disconnects only end connections.
example: cut:4M-10M,stall:2000:3000,status:503:every=3,malformed:0.01,truncated:every=250`;

const LINE_FAULTS = ['malformed', 'invalid', 'truncated', 'oversized', 'duplicate'] as const;
type LineFault = (typeof LINE_FAULTS)[number];

function bad(spec: string, why: string): UserError {
  return new UserError(`invalid --faults "${spec}": ${why}`, { hint: `syntax:\n${FAULT_SPEC_HELP}` });
}

function positiveInt(spec: string, what: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isInteger(n) || n < 1) throw bad(spec, `${what} must be an integer ≥ 1, got "${value ?? ''}"`);
  return n;
}

/** Parses a `--faults` spec; throws a UserError naming the bad part. An empty spec means no faults. */
export function parseFaultSpec(spec: string): FaultSpec {
  const faults: FaultSpec = {};
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const [kind, ...args] = part.split(':');
    switch (kind) {
      case 'cut': {
        const range = /^(\d+(?:\.\d+)?[kKmM]?)(?:-(\d+(?:\.\d+)?[kKmM]?))?$/.exec(args.join(':'));
        if (args.length !== 1 || !range) throw bad(spec, `"${part}": expected cut:<bytes> or cut:<min>-<max> (e.g. cut:4M-10M)`);
        const min = byteSize(range[1]!);
        const max = range[2] === undefined ? min : byteSize(range[2]);
        if (min < 1 || max < min) throw bad(spec, `"${part}": the byte budget must be at least 1 and min ≤ max`);
        faults.cut = { min, max };
        break;
      }
      case 'disconnect':
        if (args.length < 1 || args.length > 2 || (args[1] !== undefined && args[1] !== 'mid')) throw bad(spec, `"${part}": expected disconnect:<n> or disconnect:<n>:mid`);
        faults.disconnect = positiveInt(spec, 'disconnect <n>', args[0]);
        if (args[1] === 'mid') faults.disconnectMidLine = true;
        break;
      case 'stall':
        if (args.length !== 2) throw bad(spec, `"${part}": expected stall:<n>:<ms>`);
        faults.stall = { every: positiveInt(spec, 'stall <n>', args[0]), ms: positiveInt(spec, 'stall <ms>', args[1]) };
        break;
      case 'status': {
        const code = Number(args[0]);
        if (code !== 429 && code !== 503) throw bad(spec, `"${part}": status must be 429 or 503`);
        let every = 2;
        let retryAfterSec = 1;
        for (const option of args.slice(1)) {
          const [key, value] = option.split('=');
          if (key === 'every') every = positiveInt(spec, 'status every', value);
          else if (key === 'retry') {
            const n = Number(value);
            if (value === undefined || !Number.isInteger(n) || n < 0) throw bad(spec, `status retry must be an integer ≥ 0, got "${value ?? ''}"`);
            retryAfterSec = n;
          } else throw bad(spec, `"${part}": unknown status option "${option}" (every=<k>, retry=<s>)`);
        }
        (faults.status ??= []).push({ code, every, retryAfterSec });
        break;
      }
      default: {
        if (!(LINE_FAULTS as readonly string[]).includes(kind ?? '')) {
          throw bad(spec, `unknown fault "${kind ?? ''}" (cut, disconnect, stall, status, ${LINE_FAULTS.join(', ')})`);
        }
        if (args.length !== 1) throw bad(spec, `"${part}": expected ${kind}:<probability> or ${kind}:every=<n>`);
        faults[kind as LineFault] = parseFrequency(spec, args[0]!);
      }
    }
  }
  return faults;
}

/** "4M" → 4,194,304; "512k" → 524,288; "1000" → 1000. */
function byteSize(text: string): number {
  const unit = text.at(-1)!.toLowerCase();
  const scale = unit === 'k' ? 1024 : unit === 'm' ? 1024 * 1024 : 1;
  return Math.floor(Number(scale === 1 ? text : text.slice(0, -1)) * scale);
}

function parseFrequency(spec: string, value: string): Frequency {
  if (value.startsWith('every=')) return { every: positiveInt(spec, 'every', value.slice(6)) };
  const p = Number(value);
  if (value === '' || !Number.isFinite(p) || p <= 0 || p > 1) throw bad(spec, `"${value}" is not a probability in (0, 1] or every=<n>`);
  return { probability: p };
}

/** Stable small numbers per fault kind, so each kind draws its own seeded decisions. */
const KIND_SALT: Record<LineFault, number> = { malformed: 1, invalid: 2, truncated: 3, oversized: 4, duplicate: 5 };

/**
 * Whether a per-event fault fires after an event. Live events: by timeline position `index` (the
 * n-th live event). Catch-up events: by their count `n` on the connection and, for a probability,
 * drawn again on each connection (a record served twice is not bad twice by necessity).
 */
export function fires(frequency: Frequency | undefined, kind: LineFault, seed: number, index: number, catchup?: { connection: number; n: number }): boolean {
  if (!frequency) return false;
  if ('every' in frequency) return ((catchup ? catchup.n : index) + 1) % frequency.every === 0;
  return (catchup ? hash01(seed, KIND_SALT[kind], index, catchup.connection) : hash01(seed, KIND_SALT[kind], index)) < frequency.probability;
}

/** The byte budget of the n-th connection (1-based) under a `cut` fault: uniform in [min, max], by seed. */
export function cutBudget(cut: { min: number; max: number }, seed: number, connection: number): number {
  return cut.min + Math.floor(hash01(seed, 41, connection) * (cut.max - cut.min + 1));
}

/** The status fault (if any) for the n-th connection (1-based). */
export function statusFor(faults: FaultSpec, connection: number): { code: 429 | 503; retryAfterSec: number } | undefined {
  return faults.status?.find((s) => connection % s.every === 0);
}

const MALFORMED = [
  (i: number) => `not json: garbage line ${i}`,
  (i: number) => `{"id":"${i}","mtime":1425793345907,,"name":"double comma"}`,
  (i: number) => `{'id':'${i}','mtime':1425793345907}`,
  (i: number) => `{"id":"${i}","mtime":1425793345907}} trailing`,
  (i: number) => `[${i}, "unterminated array"`,
  (i: number) => `{"id":"${i}","name":"bad escape \\x41","mtime":1425793345907}`,
];

const INVALID = [
  (i: number) => `{"name":"record without id ${i}","mtime":1425793345907}`,
  (i: number) => `{"id":${i},"name":"numeric id","mtime":1425793345907}`,
  (i: number) => `{"id":"${i}","name":"no mtime"}`,
  (i: number) => `{"id":"${i}","mtime":"yesterday"}`,
  () => `[]`,
  () => `null`,
];

/** A line that is not JSON at all. */
export function malformedLine(seed: number, index: number): string {
  return MALFORMED[Math.floor(hash01(seed, 11, index) * MALFORMED.length)]!(index);
}

/** A JSON value that is not a record with a string id and a numeric mtime. */
export function invalidLine(seed: number, index: number): string {
  return INVALID[Math.floor(hash01(seed, 12, index) * INVALID.length)]!(index);
}

/** A record cut short between 20 % and 90 % of its length (never valid JSON: the closing brace is gone). */
export function truncatedLine(line: string, seed: number, index: number): string {
  const cut = Math.max(1, Math.floor(line.length * (0.2 + 0.7 * hash01(seed, 13, index))));
  return line.slice(0, Math.min(cut, line.length - 1));
}

/** The record with its description padded so the line exceeds 1 MiB; same id and mtime. */
export function oversizedLine(line: string): string {
  const padding = ' lorem'.repeat(Math.ceil((1.1 * 1024 * 1024) / 6));
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    record.description = `${typeof record.description === 'string' ? record.description : ''}${padding}`;
    return JSON.stringify(record);
  } catch {
    return `{"oversized":"${padding}"}`;
  }
}
