import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { emrSettings } from '../../src/emr/settings.ts';
import { JobRunningError, type JobRunner, type JobSpec } from '../../src/jobs/runner.ts';
import type { JobRecord } from '../../src/jobs/types.ts';
import { awsActions, ec2StreamerHost, type Ec2StreamerService } from '../../src/tui/model/aws.ts';
import type { PipelineActions } from '../../src/tui/model/sources.ts';

const config = loadConfig({ env: {}, cwd: '/tmp', overrides: { profile: 'aws', lake: 's3://lake-bucket/oe' } });
const settings = emrSettings(config);

/** A runner that records what it was asked to start; `busy` keys refuse like a running job's key. */
function recordingRunner(name: 'local' | 'emr', busy: Record<string, JobRecord> = {}): JobRunner & { started: JobSpec[] } {
  const started: JobSpec[] = [];
  const record = (spec: JobSpec, id: string): JobRecord => ({ id, runner: name, kind: spec.kind, label: spec.label, state: 'pending', steps: [], who: 'op', createdAt: new Date().toISOString() });
  return {
    name,
    started,
    async start(spec) {
      if (spec.key && busy[spec.key]) throw new JobRunningError(busy[spec.key]!);
      started.push(spec);
      return record(spec, name === 'emr' ? `j-${started.length}` : `job-${started.length}`);
    },
    list: async () => [],
    get: async () => undefined,
    running: async () => undefined,
    stop: async () => false,
    wait: async () => {
      throw new Error('not used');
    },
    logTail: async () => '',
  };
}

const localCalls: string[] = [];
const local: PipelineActions = {
  startStreamer: async () => (localCalls.push('startStreamer'), { ok: true, message: 'local streamer' }),
  stopStreamer: async () => (localCalls.push('stopStreamer'), { ok: true, message: 'stopped' }),
  runEtl: async () => (localCalls.push('runEtl'), { ok: true, message: 'local etl' }),
  trainModel: async () => (localCalls.push('trainModel'), { ok: true, message: 'training' }),
  publishReport: async () => (localCalls.push('publishReport'), { ok: true, message: 'publishing' }),
  rerunHour: async () => (localCalls.push('rerunHour'), { ok: true, message: 'rerun' }),
  backfill: async () => (localCalls.push('backfill'), { ok: true, message: 'backfill' }),
};

describe('aws actions', () => {
  it('e and b run the ETL on the EMR engine as local jobs (keyed), r a local job that waits on EMR then builds the report', async () => {
    const emr = recordingRunner('emr');
    const localRunner = recordingRunner('local');
    const actions = awsActions({ local, localRunner, emr, settings });

    const etl = await actions.runEtl('2026-11-30T06');
    expect(etl).toMatchObject({ ok: true, jobId: 'job-1', message: expect.stringContaining('job-1') });
    expect(localRunner.started[0]).toMatchObject({ kind: 'etl', key: 'etl/2026-11-30T06', steps: [{ hour: '2026-11-30T06' }] });
    expect(localRunner.started[0]!.steps[0]!.args).toEqual(['etl', '--engine', 'emr', '--hour', '2026-11-30T06', '--lake', 's3://lake-bucket/oe/']);

    await actions.backfill(['2026-11-30T08', '2026-11-30T06']);
    expect(localRunner.started[1]).toMatchObject({ kind: 'etl', key: 'etl/pending' });
    expect(localRunner.started[1]!.steps[0]!.args).toEqual(['etl', '--engine', 'emr', '--lake', 's3://lake-bucket/oe/']);
    expect(await actions.backfill([])).toMatchObject({ ok: false });
    expect(emr.started).toEqual([]);
    localRunner.started.length = 0;

    const rerun = await actions.rerunHour('2026-11-30T07');
    expect(rerun).toMatchObject({ ok: true, jobId: 'job-1' });
    expect(localRunner.started[0]!.steps.map((s) => s.args)).toEqual([
      ['emr', 'run', '--hour', '2026-11-30T07', '--wait', '--lake', 's3://lake-bucket/oe/'],
      ['report', 'build', '--lake', 's3://lake-bucket/oe/'],
    ]);
    // m and p run here (EMR has no ML or report stage); s without an EC2 streamer is a local job
    localCalls.length = 0;
    await actions.trainModel();
    await actions.publishReport();
    await actions.startStreamer();
    expect(localCalls).toEqual(['trainModel', 'publishReport', 'startStreamer']);
  });

  it('refuses a second run of work that already runs, naming the job', async () => {
    const running: JobRecord = { id: 'job-RUNNING', runner: 'local', kind: 'etl', label: 'etl', state: 'running', steps: [], who: 'x', createdAt: '' };
    const localRunner = recordingRunner('local', { 'etl/2026-11-30T06': running });
    const actions = awsActions({ local, localRunner, emr: recordingRunner('emr'), settings });
    expect(await actions.runEtl('2026-11-30T06')).toEqual({ ok: false, message: 'ETL for 2026-11-30T06 already runs (job job-RUNNING, running)' });
    expect(localRunner.started).toEqual([]);
  });
});

describe('the EC2 streamer behind the s key', () => {
  function fakeEc2(instances: Array<{ id: string; state: string }>): Ec2StreamerService & { calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      find: async () => instances,
      launch: async () => (calls.push('launch'), { action: 'launched', instance: { id: 'i-new', state: 'pending' } }),
      start: async () => (calls.push('start'), { instance: instances[0]!, changed: instances[0]!.state === 'stopped', state: instances[0]!.state === 'stopped' ? 'pending' : instances[0]!.state }),
      stop: async () => (calls.push('stop'), { instance: instances[0]!, changed: instances[0]!.state === 'running', state: instances[0]!.state === 'running' ? 'stopping' : instances[0]!.state }),
    };
  }

  it('starts a stopped instance, launches one when there is none, stops a running one, and says when there is nothing to do', async () => {
    const stopped = fakeEc2([{ id: 'i-1', state: 'stopped' }]);
    expect(await ec2StreamerHost(stopped).start()).toEqual({ ok: true, message: 'starting the EC2 streamer i-1 (pending)', jobId: 'i-1' });
    const none = fakeEc2([]);
    expect(await ec2StreamerHost(none).start()).toEqual({ ok: true, message: 'launched the EC2 streamer i-new', jobId: 'i-new' });
    expect(await ec2StreamerHost(none).stop()).toEqual({ ok: false, message: 'there is no EC2 streamer to stop' });
    expect(await ec2StreamerHost(none).find()).toBeUndefined();
    const running = fakeEc2([{ id: 'i-2', state: 'running' }]);
    expect(await ec2StreamerHost(running).find()).toEqual({ id: 'i-2', state: 'running' });
    expect(await ec2StreamerHost(running).start()).toEqual({ ok: false, message: 'the EC2 streamer i-2 is already running' });
    expect(await ec2StreamerHost(running).stop()).toEqual({ ok: true, message: 'stopping the EC2 streamer i-2 (stopping)', jobId: 'i-2' });
    expect(stopped.calls).toEqual(['start']);
    expect(none.calls).toEqual(['launch']);
  });

  it('drives s through the host instead of a local job when there is one', async () => {
    const host = ec2StreamerHost(fakeEc2([{ id: 'i-3', state: 'stopped' }]));
    localCalls.length = 0;
    const actions = awsActions({ local, localRunner: recordingRunner('local'), emr: recordingRunner('emr'), settings, streamer: host });
    expect(await actions.startStreamer()).toMatchObject({ ok: true, jobId: 'i-3' });
    expect(localCalls).toEqual([]);
  });
});
