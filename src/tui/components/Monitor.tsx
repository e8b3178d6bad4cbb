import { Box } from 'ink';
import { useMonitorKeys } from '../hooks/use-monitor-keys.ts';
import { useMonitorState } from '../hooks/use-monitor-state.ts';
import { useRefresh } from '../hooks/use-refresh.ts';
import { useTerminalSize } from '../hooks/use-terminal-size.ts';
import type { ActionRunner } from '../model/actions.ts';
import { emptySnapshot } from '../model/snapshot.ts';
import type { PipelineSources } from '../model/sources.ts';
import type { PipelineSnapshot } from '../model/types.ts';
import { monitorLayout, type MonitorLayout } from '../state/layout.ts';
import { selectedLakeHour, visibleLogs, type MonitorState } from '../state/monitor-state.ts';
import { ColorContext } from '../theme.ts';
import { AlertBanner, alertBannerLines } from './AlertBanner.tsx';
import { Footer } from './Footer.tsx';
import { Header } from './Header.tsx';
import { HelpOverlay } from './HelpOverlay.tsx';
import { JobsPane } from './JobsPane.tsx';
import { LakePane } from './LakePane.tsx';
import { LogsPane } from './LogsPane.tsx';
import { StreamPane } from './StreamPane.tsx';

export interface MonitorProps {
  sources: PipelineSources;
  /** Runs (and audits) actions; without it the monitor is read-only. */
  runner?: ActionRunner;
  readonly?: boolean;
  refreshMs: number;
  onQuit: () => void;
  /** Colours on (default) or off (NO_COLOR). */
  color?: boolean;
  /** A fixed size instead of the terminal's (tests). */
  size?: { columns: number; rows: number };
  /** A first snapshot to show before the first fetch (tests, benchmarks). */
  initial?: PipelineSnapshot;
  now?: () => number;
}

/** The operator's monitor: Stream | Jobs on top, the Lake grid, the Logs tail, a key footer. */
export function Monitor(props: MonitorProps) {
  const now = props.now ?? Date.now;
  const readonly = props.readonly === true || props.runner === undefined;
  const [state, dispatch] = useMonitorState(props.initial ?? emptySnapshot(props.sources, now()), readonly);
  const { columns, rows } = useTerminalSize(props.size);
  // The alert banner takes its lines from the Logs pane.
  const layout = monitorLayout(columns, rows - alertBannerLines(state.snapshot.alerts));
  const refreshNow = useRefresh(props.sources, props.refreshMs, dispatch, now);
  useMonitorKeys({
    state,
    dispatch,
    runner: readonly ? undefined : props.runner,
    gridRows: layout.gridRows,
    refreshNow,
    onQuit: props.onQuit,
    now,
  });
  return <MonitorView state={state} layout={layout} refreshMs={props.refreshMs} readonly={readonly} color={props.color ?? true} />;
}

export interface MonitorViewProps {
  state: MonitorState;
  layout: MonitorLayout;
  refreshMs: number;
  readonly: boolean;
  color: boolean;
}

/** The whole screen for a state and a layout: no hooks, no I/O (tests and the render benchmark use it directly). */
export function MonitorView({ state, layout, refreshMs, readonly, color }: MonitorViewProps) {
  // Ages and elapsed times are as of the last refresh: one render per refresh, no clock timer.
  const nowMs = state.snapshot.atMs;
  const { panes } = state.snapshot;
  const width = layout.columns;
  const jobsWidth = width - layout.streamWidth - 1;
  const bodyLines = layout.topLines + 1 + layout.gridRows + 2 + layout.logLines + 1;
  return (
    <ColorContext.Provider value={color}>
      <Box flexDirection="column" width={width}>
        <Header profile={state.snapshot.profile} lake={state.snapshot.lake} nowMs={nowMs} refreshMs={refreshMs} readonly={readonly} width={width} />
        <AlertBanner pane={state.snapshot.alerts} width={width} />
        {state.help ? (
          <HelpOverlay width={width} lines={bodyLines} readonly={readonly} />
        ) : (
          <>
            <Box flexDirection="row">
              <StreamPane pane={panes.stream} width={layout.streamWidth} lines={layout.topLines} focused={state.focus === 'stream'} nowMs={nowMs} />
              <Box width={1} />
              <JobsPane pane={panes.jobs} width={jobsWidth} lines={layout.topLines} focused={state.focus === 'jobs'} selected={state.selectedJob} nowMs={nowMs} />
            </Box>
            <LakePane
              pane={panes.lake}
              width={width}
              gridRows={layout.gridRows}
              cellWidth={layout.cellWidth}
              compact={layout.compact}
              focused={state.focus === 'lake'}
              selected={selectedLakeHour(state)}
              nowMs={nowMs}
            />
            <LogsPane
              pane={panes.logs}
              visible={visibleLogs(state)}
              width={width}
              lines={layout.logLines}
              focused={state.focus === 'logs'}
              scroll={state.logScroll}
              filter={state.filter}
              draft={state.filterDraft}
              nowMs={nowMs}
            />
          </>
        )}
        <Footer state={state} width={width} nowMs={nowMs} />
      </Box>
    </ColorContext.Provider>
  );
}
