import type { JobRecord } from '../../jobs/types.ts';
import { sanitize } from '../../text.ts';
import type { JobView } from './types.ts';

/** A job record as the Jobs pane shows it (exported for the EMR adapter to mirror). */
export function jobView(record: JobRecord): JobView {
  const hours = record.steps.map((s) => s.hour).filter((h): h is string => typeof h === 'string');
  const hourResults: NonNullable<JobView['hourResults']> = {};
  for (const step of record.steps) {
    if (!step.hour || !step.state || step.state === 'stopped') continue;
    hourResults[step.hour] = step.state;
  }
  const started = record.startedAt ? Date.parse(record.startedAt) : undefined;
  const ended = record.endedAt ? Date.parse(record.endedAt) : undefined;
  return {
    id: sanitize(record.id, 80),
    kind: sanitize(record.kind, 20),
    label: sanitize(record.label, 120),
    state: record.state,
    runner: 'local',
    ...(started !== undefined && Number.isFinite(started) ? { startedAtMs: started } : {}),
    ...(ended !== undefined && Number.isFinite(ended) ? { endedAtMs: ended } : {}),
    ...(record.reason ? { reason: sanitize(record.reason, 400) } : {}),
    ...(hours.length ? { hours, hourResults } : {}),
    logFile: sanitize(record.logFile, 400),
  };
}
