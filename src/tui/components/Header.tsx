import { Text } from 'ink';
import { clip } from '../format.ts';
import { sanitize } from '../../text.ts';

export interface HeaderProps {
  profile: string;
  lake: string;
  nowMs: number;
  refreshMs: number;
  readonly: boolean;
  width: number;
}

/** The top line: what is being watched, the time (UTC) and whether actions are off. */
export function Header({ profile, lake, nowMs, refreshMs, readonly, width }: HeaderProps) {
  const time = new Date(nowMs).toISOString().slice(11, 19);
  const text = `openevents monitor · ${profile} · lake ${sanitize(lake, 200)} · ${time}Z · every ${refreshMs / 1000}s${readonly ? ' · READ-ONLY' : ''}`;
  return <Text bold>{clip(text, width)}</Text>;
}
