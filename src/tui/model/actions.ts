import type { HourId } from '../../lake/layout.ts';
import type { TelemetrySink } from '../../telemetry/telemetry.ts';
import { errorMessage } from '../../errors.ts';
import type { ActionResult, PipelineActions } from './sources.ts';

/** A one-key action the operator asked for. */
export type ActionRequest =
  | { kind: 'stream'; stop: boolean }
  | { kind: 'etl'; hour: HourId }
  | { kind: 'train' }
  | { kind: 'publish' }
  | { kind: 'rerun'; hour: HourId }
  | { kind: 'backfill'; hours: HourId[] };

/** The action's name and target for the audit line, and the y/N question when it needs one. */
export function describeAction(request: ActionRequest): { action: string; target: string; question: string } {
  switch (request.kind) {
    case 'stream':
      return request.stop
        ? { action: 'stream.stop', target: 'streamer', question: 'Stop the streamer?' }
        : { action: 'stream.start', target: 'streamer', question: 'Start the streamer?' };
    case 'etl':
      return { action: 'etl', target: request.hour, question: `Run ETL for ${request.hour}?` };
    case 'train':
      return { action: 'ml.train', target: 'model', question: 'Train and evaluate the model?' };
    case 'publish':
      return { action: 'report.publish', target: 'report', question: 'Build the report and publish it, replacing the published one?' };
    case 'rerun':
      return { action: 'rerun', target: request.hour, question: `Rerun ${request.hour} end to end (replaces its curated data and the report)?` };
    case 'backfill':
      return { action: 'backfill', target: request.hours.join(','), question: `Backfill ${request.hours.length} hour(s): ${summariseHours(request.hours)}?` };
  }
}

/**
 * Whether an action asks y/N first: anything that replaces published or curated output always
 * does; on the aws profile, anything that starts paid compute (EC2, EMR) does too.
 */
export function needsConfirmation(request: ActionRequest, profile: string): boolean {
  if (request.kind === 'publish' || request.kind === 'rerun' || request.kind === 'backfill') return true;
  if (profile === 'aws') return !(request.kind === 'stream' && request.stop);
  return false;
}

/** Runs actions and writes one audit line per request, whatever its outcome. */
export interface ActionRunner {
  run(request: ActionRequest): Promise<ActionResult>;
  /** Records a request that was not carried out (declined at the y/N prompt, or read-only). */
  refuse(request: ActionRequest, why: string): void;
}

/** Audit lines go to telemetry: `{kind:'audit', component:'monitor', data:{who, action, target, result}}`. */
export function auditedRunner(actions: PipelineActions, sink: TelemetrySink, who: string): ActionRunner {
  const audit = (request: ActionRequest, result: string, message: string, jobId?: string): void => {
    const { action, target } = describeAction(request);
    sink.emit({
      level: result === 'ok' ? 'info' : 'warn',
      component: 'monitor',
      kind: 'audit',
      msg: `${who} ${action} ${target}: ${message}`,
      data: { who, action, target, result, ...(jobId ? { jobId } : {}) },
    });
  };
  return {
    async run(request) {
      let result: ActionResult;
      try {
        result = await call(actions, request);
      } catch (error) {
        result = { ok: false, message: errorMessage(error) };
      }
      audit(request, result.ok ? 'ok' : 'failed', result.message, result.jobId);
      return result;
    },
    refuse(request, why) {
      audit(request, 'refused', why);
    },
  };
}

function call(actions: PipelineActions, request: ActionRequest): Promise<ActionResult> {
  switch (request.kind) {
    case 'stream':
      return request.stop ? actions.stopStreamer() : actions.startStreamer();
    case 'etl':
      return actions.runEtl(request.hour);
    case 'train':
      return actions.trainModel();
    case 'publish':
      return actions.publishReport();
    case 'rerun':
      return actions.rerunHour(request.hour);
    case 'backfill':
      return actions.backfill(request.hours);
  }
}

function summariseHours(hours: readonly HourId[]): string {
  return hours.length <= 3 ? hours.join(', ') : `${hours.slice(0, 2).join(', ')} … ${hours[hours.length - 1]}`;
}
