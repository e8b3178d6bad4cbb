/** Small, pure formatters shared by the panes and the plain-text output. */

const SPARK = '▁▂▃▄▅▆▇█';

/** A sparkline of `values` scaled to their maximum; empty slots (undefined) render as spaces. */
export function sparkline(values: ReadonlyArray<number | undefined>): string {
  const max = Math.max(0, ...values.map((v) => v ?? 0));
  return values
    .map((v) => {
      if (v === undefined) return ' ';
      if (max <= 0) return SPARK[0];
      const i = Math.min(SPARK.length - 1, Math.round((v / max) * (SPARK.length - 1)));
      return SPARK[i];
    })
    .join('');
}

/** 1234 → '1.2k', 1234567 → '1.2M'. */
export function compact(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  const abs = Math.abs(n);
  if (abs < 1000) return String(Math.round(n * 10) / 10);
  if (abs < 1e6) return `${(n / 1e3).toFixed(abs < 1e4 ? 1 : 0)}k`;
  if (abs < 1e9) return `${(n / 1e6).toFixed(abs < 1e7 ? 1 : 0)}M`;
  return `${(n / 1e9).toFixed(1)}G`;
}

/** Bytes as B, K, M, G (powers of 1024). */
export function bytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)}${units[u]}`;
}

/** A duration in ms as '850ms', '12s', '3m04s', '2h05m'. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Thousands separators: 12345 → '12,345'. */
export function count(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

/** Cuts to at most `width` characters (no padding: the terminal needs no trailing spaces, and Ink styles every character it gets). */
export function clip(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? (width === 1 ? '…' : text.slice(0, width - 1) + '…') : text;
}

/** Pads or cuts to exactly `width` characters. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : text.slice(0, width - 1) + '…';
  return text.padEnd(width);
}

/**
 * Resamples timed values into `width` buckets covering the `spanMs` before `nowMs`: each bucket
 * holds the largest value that fell in it, or undefined when none did (a gap, not a zero).
 */
export function buckets(samples: ReadonlyArray<{ atMs: number; value: number }>, nowMs: number, spanMs: number, width: number): Array<number | undefined> {
  const out: Array<number | undefined> = Array.from({ length: Math.max(0, width) }, () => undefined);
  if (width <= 0) return out;
  const start = nowMs - spanMs;
  for (const s of samples) {
    if (s.atMs < start || s.atMs > nowMs) continue;
    const i = Math.min(width - 1, Math.floor(((s.atMs - start) / spanMs) * width));
    const prev = out[i];
    out[i] = prev === undefined ? s.value : Math.max(prev, s.value);
  }
  return out;
}

/** 'HH:MM:SS' of an ISO timestamp (UTC), or the input cut to 8 when it is not one. */
export function clock(iso: string): string {
  const m = /T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m?.[1] ?? iso.slice(0, 8);
}
