import { Box, Text } from 'ink';
import { clip, clock } from '../format.ts';
import type { LogLine, LogView, PaneData } from '../model/types.ts';
import { useColor } from '../theme.ts';
import { PaneTitle } from './PaneTitle.tsx';

export interface LogsPaneProps {
  pane: PaneData<LogView>;
  /** The lines that pass the filter, oldest first. */
  visible: LogLine[];
  width: number;
  lines: number;
  focused: boolean;
  /** Lines scrolled up from the newest. */
  scroll: number;
  filter: string;
  /** The filter being typed, when editing. */
  draft: string | undefined;
  nowMs: number;
}

const LEVEL: Record<LogLine['level'], { tag: string; color: string }> = {
  debug: { tag: 'DBG', color: 'gray' },
  info: { tag: 'INF', color: 'white' },
  warn: { tag: 'WRN', color: 'yellow' },
  error: { tag: 'ERR', color: 'red' },
};

/** Logs: a tail of telemetry with level tags and colours; `/` filters. */
export function LogsPane({ pane, visible, width, lines, focused, scroll, filter, draft, nowMs }: LogsPaneProps) {
  const color = useColor();
  const end = Math.max(0, visible.length - scroll);
  const shown = visible.slice(Math.max(0, end - lines), end);
  const total = pane.data?.lines.length ?? 0;
  const extra =
    draft !== undefined
      ? `filter: /${draft}▏ (${visible.length}/${total})`
      : filter
        ? `filter: "${filter}" (${visible.length}/${total})`
        : scroll > 0
          ? `${scroll} lines up`
          : '';
  const rows = shown.map((line, i) => {
    const level = LEVEL[line.level];
    const audit = line.kind === 'audit' ? 'audit ' : '';
    return (
      <Text key={i} color={color(level.color)}>
        {clip(`${clock(line.ts)} ${level.tag} ${line.component.padEnd(8)} ${audit}${line.msg}`, width)}
      </Text>
    );
  });
  while (rows.length < lines) rows.push(<Text key={`pad-${rows.length}`}> </Text>);
  return (
    <Box flexDirection="column" width={width}>
      <PaneTitle title="Logs" extra={extra} width={width} focused={focused} pane={pane} nowMs={nowMs} />
      {rows}
    </Box>
  );
}
