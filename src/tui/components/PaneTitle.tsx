import { Text } from 'ink';
import { duration, fit } from '../format.ts';
import type { PaneData } from '../model/types.ts';
import { useColor } from '../theme.ts';

export interface PaneTitleProps {
  title: string;
  width: number;
  focused: boolean;
  pane: PaneData<unknown>;
  nowMs: number;
  /** Extra text after the title (e.g. the logs filter). */
  extra?: string;
}

/** A pane's title bar: inverse when focused; says "stale" with the error when the last fetch failed. */
export function PaneTitle({ title, width, focused, pane, nowMs, extra }: PaneTitleProps) {
  const color = useColor();
  let status = '';
  if (pane.stale) {
    if (pane.error) {
      const age = pane.updatedAtMs !== undefined ? ` ${duration(nowMs - pane.updatedAtMs)} old` : '';
      status = ` STALE${age}: ${pane.error}`;
    } else if (pane.data === undefined) status = ' loading…';
  }
  const head = `${focused ? '▶' : ' '} ${title}${extra ? `  ${extra}` : ''}`;
  const text = fit(head + status, width);
  if (!status || !pane.error) return <Text inverse={focused} bold>{text}</Text>;
  const split = Math.min(head.length, text.length);
  return (
    <Text inverse={focused} bold>
      {text.slice(0, split)}
      <Text color={color('red')}>{text.slice(split)}</Text>
    </Text>
  );
}
