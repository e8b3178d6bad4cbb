import { Box, Text } from 'ink';
import { duration, fit } from '../format.ts';
import type { JobView, PaneData } from '../model/types.ts';
import { useColor } from '../theme.ts';
import { PaneTitle } from './PaneTitle.tsx';

export interface JobsPaneProps {
  pane: PaneData<JobView[]>;
  width: number;
  lines: number;
  focused: boolean;
  selected: number;
  nowMs: number;
}

const TONE: Record<JobView['state'], string> = { pending: 'gray', running: 'cyan', succeeded: 'green', failed: 'red', stopped: 'yellow' };

/** Elapsed time of a job: until now while it runs, else until it ended. */
export function elapsed(job: JobView, nowMs: number): number | undefined {
  if (job.startedAtMs === undefined) return undefined;
  return (job.endedAtMs ?? nowMs) - job.startedAtMs;
}

/** A job's label with what its runner adds: an EMR cluster's state, its steps done and its normalised instance hours. */
export function jobLabel(job: JobView): string {
  if (!job.phase) return job.label;
  const steps = job.steps ? ` ${job.steps.done}/${job.steps.total} steps` : '';
  const nih = job.instanceHours !== undefined ? ` ${job.instanceHours} NIH` : '';
  return `${job.label} [${job.phase}${steps}${nih}]`;
}

/** Jobs, local and EMR alike: state (an EMR cluster's own state beside it), elapsed time, and the selected job's state-change reason and logs. */
export function JobsPane({ pane, width, lines, focused, selected, nowMs }: JobsPaneProps) {
  const color = useColor();
  const jobs = pane.data ?? [];
  const current = jobs[selected];
  const reasonLine = current?.reason ? 1 : 0;
  // Where to look next: the failed step's log (a local file, or its folder under the cluster's LogUri).
  const logsLine = current?.state === 'failed' && current.logs && lines - reasonLine > 2 ? 1 : 0;
  const listLines = Math.max(1, lines - reasonLine - logsLine);
  // Keep the selected job in view.
  const first = Math.max(0, Math.min(selected - listLines + 1, jobs.length - listLines));
  const shown = jobs.slice(Math.max(0, first), Math.max(0, first) + listLines);
  const rows = shown.map((job, i) => {
    const index = Math.max(0, first) + i;
    const mark = index === selected && focused ? '▶' : ' ';
    const time = duration(elapsed(job, nowMs)).padStart(6);
    const label = jobLabel(job);
    const text = fit(`${mark}${job.state.padEnd(9)} ${fit(label, Math.max(4, width - 19))} ${time}`, width);
    return (
      <Text key={job.id} color={color(TONE[job.state])}>
        {text}
      </Text>
    );
  });
  while (rows.length < listLines) rows.push(<Text key={`pad-${rows.length}`}>{jobs.length === 0 && rows.length === 0 ? fit(' no jobs yet', width) : ' '}</Text>);
  return (
    <Box flexDirection="column" width={width}>
      <PaneTitle title={`Jobs (${jobs.length})`} width={width} focused={focused} pane={pane} nowMs={nowMs} />
      {rows}
      {reasonLine ? <Text color={color(current?.state === 'failed' ? 'red' : 'yellow')}>{fit(` why: ${current?.reason ?? ''}`, width)}</Text> : null}
      {logsLine ? <Text color={color('gray')}>{fit(` logs: ${current?.logs ?? ''}`, width)}</Text> : null}
    </Box>
  );
}
