import type { JobRecord } from '../../jobs/types.ts';
import { sanitize } from '../../text.ts';
import type { JobView } from './types.ts';

/** A job record, local or EMR, as the Jobs pane and `status` show it: every string from outside sanitised. */
export function jobView(record: JobRecord): JobView {
  const hours = [...new Set(record.steps.map((s) => s.hour).filter((h): h is string => typeof h === 'string'))];
  const hourResults: NonNullable<JobView['hourResults']> = {};
  for (const step of record.steps) {
    if (!step.hour || !step.state || step.state === 'stopped' || step.state === 'pending') continue;
    // A failed step marks its hour failed, whatever another step of the hour did.
    if (hourResults[step.hour] !== 'failed') hourResults[step.hour] = step.state;
  }
  const started = record.startedAt ? Date.parse(record.startedAt) : undefined;
  const ended = record.endedAt ? Date.parse(record.endedAt) : undefined;
  const failed = record.steps.find((s) => s.state === 'failed');
  const current = failed ?? record.steps.find((s) => s.state === 'running');
  const logs = current?.failure?.logFile ?? current?.logs ?? record.logFile;
  const phase = record.cluster?.state;
  return {
    id: sanitize(record.id, 80),
    kind: sanitize(record.kind, 20),
    label: sanitize(record.label, 120),
    state: record.state,
    runner: record.runner ?? 'local',
    ...(phase ? { phase: sanitize(phase, 40) } : {}),
    ...(started !== undefined && Number.isFinite(started) ? { startedAtMs: started } : {}),
    ...(ended !== undefined && Number.isFinite(ended) ? { endedAtMs: ended } : {}),
    ...(record.reason ? { reason: sanitize(record.reason, 400) } : {}),
    ...(hours.length ? { hours, hourResults } : {}),
    ...(record.steps.length
      ? { steps: { done: record.steps.filter((s) => s.state === 'succeeded').length, total: record.steps.length, ...(failed ? { failed: sanitize(failed.label, 80) } : {}) } }
      : {}),
    ...(logs ? { logs: sanitize(logs, 400) } : {}),
    ...(record.cluster ? { clusterId: sanitize(record.cluster.id, 40) } : {}),
    ...(record.cluster?.normalizedInstanceHours !== undefined ? { instanceHours: record.cluster.normalizedInstanceHours } : {}),
  };
}
