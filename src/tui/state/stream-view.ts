import { compact, duration } from '../format.ts';
import type { StreamView } from '../model/types.ts';

/** Kinesis and the lander (aws): open shards, what the lander moves and how far the lake trails the stream. */
export function transportLine(s: StreamView, nowMs: number): string {
  const parts: string[] = [];
  if (s.kinesis) parts.push(`kinesis ${s.kinesis.open} open shard${s.kinesis.open === 1 ? '' : 's'}${s.kinesis.closed ? ` (+${s.kinesis.closed} closed)` : ''}`);
  const l = s.lander;
  if (l) {
    const state = l.quiet ? `quiet ${duration(nowMs - l.statsAtMs)}` : l.state;
    parts.push(`lander ${state} ${compact(l.recordsPerSec)} rec/s lag ${duration(l.lagMs)}`);
  }
  return parts.join('  ');
}
