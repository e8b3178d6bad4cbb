import { Box, Text } from 'ink';
import { buckets, bytes, compact, clip, count, duration, sparkline } from '../format.ts';
import { lagMs, type PaneData, type StreamView } from '../model/types.ts';
import { useColor } from '../theme.ts';
import { PaneTitle } from './PaneTitle.tsx';
import { transportLine } from '../state/stream-view.ts';

export interface StreamPaneProps {
  pane: PaneData<StreamView>;
  width: number;
  /** Content lines (without the title). */
  lines: number;
  focused: boolean;
  nowMs: number;
}

/** The span of the events/s sparkline. */
export const SPARK_SPAN_MS = 10 * 60_000;

const STATE_COLOR: Record<StreamView['state'], string> = {
  running: 'green',
  reconnecting: 'yellow',
  starting: 'cyan',
  stopped: 'gray',
  unknown: 'yellow',
};

/** Stream: state, events/s sparkline over the last minutes, totals, reconnects, invalid, duplicates, lag. */
export function StreamPane({ pane, width, lines, focused, nowMs }: StreamPaneProps) {
  const color = useColor();
  const s = pane.data;
  const body: Array<{ text: string; color?: string }> = [];
  if (s) {
    const where = s.host ? `  ${s.host.id} ${s.host.state}` : '';
    body.push({
      text: `● ${s.state}  ${compact(s.eventsPerSec)} ev/s  ${bytes(s.bytesPerSec)}/s${where}${note(s, nowMs)}`,
      color: STATE_COLOR[s.state],
    });
    const sparkWidth = Math.max(8, width - 12);
    const series = buckets(s.history.map((h) => ({ atMs: h.atMs, value: h.eventsPerSec })), nowMs, SPARK_SPAN_MS, sparkWidth);
    const max = Math.max(0, ...series.map((v) => v ?? 0));
    body.push({ text: `${sparkline(series)} ${compact(max)}`, color: 'cyan' });
    body.push({ text: `events ${count(s.events)}  bytes ${bytes(s.bytes)}  lag ${duration(lagMs(s, nowMs))}` });
    const transport = transportLine(s, nowMs);
    if (transport) body.push({ text: transport, ...(s.lander?.quiet || s.lander?.state === 'stopped' ? { color: 'yellow' } : {}) });
    body.push({ text: `reconnects ${count(s.reconnects)}  invalid ${count(s.invalid)}  dup ${count(s.duplicates)}` });
    if (lines > body.length) body.push({ text: `last 10 min, max ${compact(max)} ev/s` });
    if (lines > body.length) body.push({ text: s.statsAtMs !== undefined ? `stats ${duration(nowMs - s.statsAtMs)} ago` : '' });
  }
  while (body.length < lines) body.push({ text: '' });
  return (
    <Box flexDirection="column" width={width}>
      <PaneTitle title="Stream" width={width} focused={focused} pane={pane} nowMs={nowMs} />
      {body.slice(0, lines).map((line, i) => (
        <Text key={i} {...(line.color && color(line.color) ? { color: color(line.color) } : {})}>
          {clip(line.text, width) || ' '}
        </Text>
      ))}
    </Box>
  );
}

function note(s: StreamView, nowMs: number): string {
  if (s.quiet && s.statsAtMs !== undefined) return `  (no stats for ${duration(nowMs - s.statsAtMs)})`;
  return s.note ? `  (${s.note})` : '';
}
