import { Box, Text } from 'ink';
import { fit } from '../format.ts';

export interface HelpOverlayProps {
  width: number;
  lines: number;
  readonly: boolean;
}

const HELP: Array<[string, string]> = [
  ['s', 'start or stop the streamer (a local background process)'],
  ['e', 'run ETL for the selected hour'],
  ['m', 'train and evaluate the model'],
  ['p', 'build and publish the report (asks y/N: replaces the published one)'],
  ['r', 'rerun the selected hour end to end: ETL, then the report (asks y/N)'],
  ['b', 'backfill every failed or late hour of the grid (asks y/N)'],
  ['↑ ↓ ← →', 'select an hour (lake), a job (jobs), scroll (logs)'],
  ['tab', 'next pane (shift+tab: previous)'],
  ['/', 'filter the logs; enter applies, esc cancels'],
  ['?', 'this help'],
  ['q', 'quit (jobs and the streamer keep running)'],
];

/** The `?` overlay: every key, and what the grid's marks mean. */
export function HelpOverlay({ width, lines, readonly }: HelpOverlayProps) {
  const text = [
    ' Keys',
    ...HELP.map(([k, what]) => `  ${k.padEnd(9)} ${what}`),
    '',
    ' Lake grid: ! late = closed with raw data but not processed; ? missing = no raw data where some should be.',
    ' Every action writes an audit line (who, what, when, result) to telemetry.',
    readonly ? ' READ-ONLY: started with --readonly, actions are disabled.' : ' Actions on the aws profile that start paid compute ask y/N first.',
  ];
  while (text.length < lines) text.push('');
  return (
    <Box flexDirection="column" width={width}>
      <Text bold inverse>
        {fit(' Help — press ? or esc to close', width)}
      </Text>
      {text.slice(0, lines - 1).map((l, i) => (
        <Text key={i}>{fit(l, width)}</Text>
      ))}
    </Box>
  );
}
