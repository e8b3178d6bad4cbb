import { Text } from 'ink';
import { clip } from '../format.ts';
import { describeAction } from '../model/actions.ts';
import { availableKeys, type MonitorState } from '../state/monitor-state.ts';
import { useColor } from '../theme.ts';

export interface FooterProps {
  state: MonitorState;
  width: number;
  nowMs: number;
}

/** How long a notice stays in the footer. */
const NOTICE_MS = 15_000;

/** Two lines: a question, the filter being typed or the last notice; then the keys that apply now. */
export function Footer({ state, width, nowMs }: FooterProps) {
  const color = useColor();
  let line: { text: string; color?: string; bold?: boolean } = { text: '' };
  if (state.confirm) line = { text: `${describeAction(state.confirm).question} [y/N]`, color: 'yellow', bold: true };
  else if (state.filterDraft !== undefined) line = { text: `filter logs: /${state.filterDraft}▏` };
  else if (state.notice && nowMs - state.notice.atMs < NOTICE_MS) line = { text: state.notice.text, color: state.notice.tone === 'error' ? 'red' : 'green' };
  const keys = keyLine(availableKeys(state), width);
  return (
    <>
      <Text color={line.color ? color(line.color) : undefined} bold={line.bold ?? false}>
        {clip(line.text, width) || ' '}
      </Text>
      <Text dimColor>{clip(keys, width)}</Text>
    </>
  );
}

/** The key list, shortened until it fits: first without the navigation keys, then keys only. */
export function keyLine(keys: Array<[string, string]>, width: number): string {
  const join = (list: Array<[string, string]>): string => list.map(([k, what]) => `${k} ${what}`).join(' · ');
  const full = join(keys);
  if (full.length <= width) return full;
  const essential = keys.filter(([k]) => !['↑↓', '/', 'tab'].includes(k));
  const shorter = join(essential.map(([k, what]) => [k, k === '?' || k === 'q' ? what : (what.split(' ')[0] ?? '')]));
  if (shorter.length <= width) return shorter;
  return essential.map(([k]) => k).join(' ');
}
