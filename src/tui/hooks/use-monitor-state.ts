import { useReducer, type Dispatch } from 'react';
import type { PipelineSnapshot } from '../model/types.ts';
import { initialState, monitorReducer, type MonitorAction, type MonitorState } from '../state/monitor-state.ts';

/** The monitor's state (see state/monitor-state.ts for the pure reducer). */
export function useMonitorState(snapshot: PipelineSnapshot, readonly: boolean): [MonitorState, Dispatch<MonitorAction>] {
  return useReducer(monitorReducer, undefined, () => initialState(snapshot, readonly));
}
