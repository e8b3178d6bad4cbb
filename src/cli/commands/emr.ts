import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import type { JobRecord } from '../../jobs/types.ts';
import { sanitize } from '../../text.ts';
import { duration } from '../../tui/format.ts';
import { intOption, printJson, println, type CliContext } from '../context.ts';

interface Common {
  lake?: string;
  json?: boolean;
}

/** Registers `openevents emr run|status|list|logs|terminate`. */
export function registerEmrCommands(program: Command, ctx: CliContext): void {
  const emr = program
    .command('emr')
    .description('Run the Spark jobs on EMR clusters and watch them')
    .addHelpText(
      'after',
      `
Clusters read and write the lake in S3 (lake = s3://bucket/prefix). Settings are under aws.emr in the config
(release label, instance types or fleets, Spot, roles, subnets, code and log locations; see README "EMR").
A cluster ends after its last step; its logs stay under aws.emr.logUri (default <lake>/_emr/logs/).`,
    );
  const service = async (opts: Common & { spot?: boolean }) => {
    const config = ctx.config(opts.lake ? { lake: opts.lake } : {});
    const { createEmrRunner } = await import('../../emr/service.ts');
    return { config, ...(await createEmrRunner(config, { cwd: ctx.cwd, env: ctx.env, ...(opts.spot ? { settings: { market: 'spot' } } : {}) })) };
  };

  emr
    .command('run')
    .description('Start a cluster for one hour, at most once')
    .addHelpText(
      'after',
      `
The etl step runs the hour's ETL plan: the batches \`openevents etl\` makes of it, written to
<lake>/_emr/etl/<hour>_<hour>-<hash>/plan.json and read by spark/jobs/etl.py on the cluster, which
writes the segment files into the lake and each batch's result beside the plan. With --wait the
results are committed to the curated tables when the cluster ends; without it, \`openevents etl
--engine emr --hour <hour>\` (or the scheduler) commits them later — waiting for the cluster if it
still runs, starting none while it does.`,
    )
    .requiredOption('--hour <YYYY-MM-DDTHH>', 'the UTC arrival hour to process')
    .option('--steps <list>', 'comma-separated stages to run as EMR steps: etl', 'etl')
    .option('--spot', 'ask for Spot capacity (instance fleets switch to on-demand when Spot is not found in time)')
    .option('--dry-run', 'print the RunJobFlow request (and the code and plan it would upload) and start nothing')
    .option('--wait', 'wait until the cluster ends, printing its state changes, then commit its results; exit 1 if it failed')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common & { hour: string; steps: string; spot?: boolean; dryRun?: boolean; wait?: boolean }) => {
      const { pipelineJob, parseHour, parseStages } = await import('../../emr/pipeline.ts');
      const [{ JobRunningError }, { planHourBatches, runEtl }, { EmrEngine, etlPlan }, { putJson }] = await Promise.all([
        import('../../jobs/runner.ts'),
        import('../../etl/run.ts'),
        import('../../etl/engines/emr.ts'),
        import('../../lake/store.ts'),
      ]);
      const hour = parseHour(opts.hour);
      const stages = parseStages(opts.steps);
      const { config, runner, settings } = await service(opts);
      const store = await ctx.runtime(config).lake({ mustExist: true });
      const planning = { graceMs: config.stream.hourGraceMs, batchRecords: config.etl.batchRecords, batchBytes: config.etl.batchBytes };
      const batches = await planHourBatches(store, [hour], { ...planning, startedAt: new Date() });
      if (batches.length === 0) {
        throw new UserError(`hour ${hour} cannot be processed: its raw objects do not match its manifest`, { hint: 'see `openevents lake check`' });
      }
      if (batches.every((b) => b.inputs.length === 0)) {
        throw new UserError(`the lake has no raw objects for hour ${hour}: nothing to run`, { hint: 'see the hours there are with `openevents lake ls`' });
      }
      const plan = etlPlan(settings, batches);
      const spec = pipelineJob(settings, hour, stages, { etl: plan });
      if (opts.dryRun) {
        const request = await runner.plan(spec);
        const etl = { uri: plan.uri, batches: plan.doc.batches.length, objects: plan.doc.batches.reduce((n, b) => n + b.inputs.length, 0) };
        if (opts.json) printJson(ctx.stdout, { ...request, etl });
        else {
          println(ctx.stdout, `would upload ${request.code.files} files (${request.code.bytes} bytes) to ${request.code.uri} unless already there,`);
          println(ctx.stdout, `the ETL plan (${etl.batches} batch(es), ${etl.objects} raw object(s)) to ${etl.uri}, then send:`);
          printJson(ctx.stdout, { RunJobFlow: request.request });
        }
        return;
      }
      let job: JobRecord;
      let started = true;
      try {
        await putJson(store, plan.key, plan.doc);
        const submitted = await runner.submit(spec);
        job = submitted.job;
        if (!opts.json) {
          println(ctx.stdout, `code ${submitted.code.hash} ${submitted.code.uploaded ? `uploaded to ${submitted.code.uri}` : `already at ${submitted.code.uri}`}`);
          println(ctx.stdout, `started cluster ${job.id} (${job.label}): ${job.cluster?.state ?? job.state}`);
        }
      } catch (error) {
        if (!(error instanceof JobRunningError)) throw error;
        job = error.job;
        started = false;
        if (!opts.json) println(ctx.stdout, `nothing started: cluster ${job.id} (${job.label}) is already ${job.cluster?.state ?? job.state}`);
      }
      let etl: { hours: string[]; failed: string[]; validRecords: number } | undefined;
      if (opts.wait) {
        job = await runner.wait(job.id, {
          signal: ctx.stopSignal,
          onChange: (r) => println(opts.json ? ctx.stderr : ctx.stdout, progressLine(r)),
        });
        if (job.state === 'succeeded') {
          // The cluster's results, committed as the ETL commits a batch; a result that is missing fails its hour (no second cluster).
          const result = await runEtl(store, { ...planning, select: { hours: [hour] }, engine: new EmrEngine({ runner, settings, collectOnly: true }), signal: ctx.stopSignal });
          etl = { hours: result.hours, failed: result.failed, validRecords: result.validRecords };
          if (!opts.json) println(ctx.stdout, `committed ${result.hours.length - result.failed.length} hour(s), ${result.validRecords} valid records${result.failed.length ? `; failed: ${result.failed.join(', ')}` : ''}`);
        }
      }
      if (opts.json) printJson(ctx.stdout, { started, job, ...(etl ? { etl } : {}) });
      if (opts.wait && job.state !== 'succeeded') {
        throw new UserError(`cluster ${job.id} ${job.state}${job.reason ? `: ${sanitize(job.reason, 500)}` : ''}`, { hint: `see \`openevents emr status ${job.id}\` and \`openevents emr logs ${job.id}\`` });
      }
      if (etl && etl.failed.length > 0) throw new UserError(`${etl.failed.length} hour(s) failed: ${etl.failed.join(', ')}`, { hint: 'see `openevents lake ls`' });
    });

  emr
    .command('status')
    .argument('[cluster]', 'the cluster id, j-… (default: the newest cluster)')
    .description('Show a cluster, its steps and any failure')
    .addHelpText('after', '\nShows the cluster state and StateChangeReason, each step with its FailureDetails, the tail of the\nfailed step\'s stderr read from LogUri, and normalised instance hours as a cost hint.')
    .option('--wait', 'poll until the cluster ends, printing its state changes')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print the status as JSON')
    .action(async (id: string | undefined, opts: Common & { wait?: boolean }) => {
      const { clusterStatus } = await import('../../emr/service.ts');
      const { runner } = await service(opts);
      if (opts.wait) {
        const target = id ?? (await clusterStatus(runner)).job.id;
        await runner.wait(target, { signal: ctx.stopSignal, onChange: (r) => println(opts.json ? ctx.stderr : ctx.stdout, progressLine(r)) });
        id = target;
      }
      const status = await clusterStatus(runner, id);
      if (opts.json) printJson(ctx.stdout, status);
      else println(ctx.stdout, statusText(status.job, status.failedStepLog));
    });

  emr
    .command('list')
    .description('List the clusters of the last 14 days')
    .option('--limit <n>', 'at most this many', intOption('--limit', 1), 20)
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print the clusters as JSON job records')
    .action(async (opts: Common & { limit: number }) => {
      const { runner } = await service(opts);
      const jobs = await runner.list(opts.limit);
      if (opts.json) printJson(ctx.stdout, jobs);
      else if (jobs.length === 0) println(ctx.stdout, 'no clusters of this pipeline in the last 14 days');
      else for (const job of jobs) println(ctx.stdout, listLine(job));
    });

  emr
    .command('logs')
    .argument('<cluster>', 'the cluster id, j-…')
    .description('Print the end of a step\'s log from LogUri')
    .option('--step <id>', 'this step (s-…)')
    .option('--stdout', 'the step\'s stdout instead of its stderr')
    .option('--bytes <n>', 'how much of the end to show', intOption('--bytes', 1), 16_384)
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print {cluster, step, log} as JSON')
    .action(async (cluster: string, opts: Common & { step?: string; stdout?: boolean; bytes: number }) => {
      const { runner } = await service(opts);
      const job = await runner.get(cluster);
      if (!job) throw new UserError(`no cluster ${cluster} of this pipeline`, { hint: 'list them with `openevents emr list`' });
      const step = opts.step
        ? job.steps.find((s) => s.stepId === opts.step)
        : (job.steps.find((s) => s.state === 'failed') ?? [...job.steps].reverse().find((s) => s.state !== 'pending'));
      if (!step) throw new UserError(opts.step ? `cluster ${cluster} has no step ${opts.step}` : `no step of cluster ${cluster} has started yet`);
      const log = await runner.clusters.stepLog(step, opts.bytes, opts.stdout ? 'stdout' : 'stderr');
      if (opts.json) {
        printJson(ctx.stdout, { cluster, step: step.stepId, label: step.label, log: log ?? null });
        return;
      }
      if (log === undefined) {
        throw new UserError(`the ${opts.stdout ? 'stdout' : 'stderr'} of ${step.label} (${step.stepId}) is not in ${step.logs ?? 'LogUri'} yet`, {
          hint: 'EMR copies step logs to S3 every few minutes and when the step ends; try again shortly',
        });
      }
      ctx.stdout.write(cleanLog(log));
    });

  emr
    .command('terminate')
    .argument('<cluster>', 'the cluster id, j-…')
    .description('Terminate a cluster')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print {cluster, terminated} as JSON')
    .action(async (cluster: string, opts: Common) => {
      const { runner } = await service(opts);
      const terminated = await runner.stop(cluster);
      if (opts.json) printJson(ctx.stdout, { cluster, terminated });
      else println(ctx.stdout, terminated ? `terminating cluster ${cluster}` : `cluster ${cluster} is not running (nothing to terminate)`);
    });
}

function progressLine(job: JobRecord): string {
  const steps = job.steps.map((s) => `${s.label} ${s.nativeState ?? s.state ?? ''}`).join(', ');
  return `${new Date().toISOString()} ${job.id} ${job.cluster?.state ?? job.state}${steps ? ` — ${sanitize(steps, 300)}` : ''}${job.reason ? ` — ${sanitize(job.reason, 300)}` : ''}`;
}

function listLine(job: JobRecord): string {
  const took = job.startedAt ? duration((job.endedAt ? Date.parse(job.endedAt) : Date.now()) - Date.parse(job.startedAt)) : '–';
  const hours = job.cluster?.normalizedInstanceHours;
  return [job.id.padEnd(16), (job.cluster?.state ?? job.state).padEnd(23), job.createdAt.slice(0, 16), took.padStart(6), `${hours ?? 0} h`.padStart(6), sanitize(job.label, 80)].join('  ');
}

function statusText(job: JobRecord, failedStepLog: string | undefined): string {
  const c = job.cluster;
  const reason = c?.stateChangeReason;
  const lines = [
    `cluster ${job.id}  ${c?.state ?? '?'} (${job.state})  ${sanitize(job.label, 120)}`,
    ...(reason ? [`  reason: ${sanitize([reason.code, reason.message].filter(Boolean).join(': '), 500)}`] : []),
    `  created ${job.createdAt}${job.startedAt ? `, ready ${job.startedAt}` : ''}${job.endedAt ? `, ended ${job.endedAt}` : ''}`,
    `  cost hint: ${c?.normalizedInstanceHours ?? 0} normalised instance hours${c?.releaseLabel ? `, ${c.releaseLabel}` : ''}`,
    ...(c?.logUri ? [`  logs: ${sanitize(c.logUri, 300)}${job.id}/`] : []),
    '  steps:',
  ];
  if (job.steps.length === 0) lines.push('    (none)');
  for (const step of job.steps) {
    const took = step.startedAt ? ` ${duration((step.endedAt ? Date.parse(step.endedAt) : Date.now()) - Date.parse(step.startedAt))}` : '';
    lines.push(`    ${(step.nativeState ?? step.state ?? '').padEnd(10)} ${sanitize(step.label, 100)}  ${step.stepId ?? ''}${took}`);
    if (step.failure) {
      lines.push(`      failure: ${sanitize([step.failure.reason, step.failure.message].filter(Boolean).join(' — '), 600)}`);
      if (step.failure.logFile) lines.push(`      log: ${sanitize(step.failure.logFile, 300)}`);
    }
  }
  if (failedStepLog !== undefined) {
    lines.push(failedStepLog ? "  the failed step's stderr (end):" : "  the failed step's stderr is not in LogUri yet (EMR copies it every few minutes)");
    for (const line of cleanLog(failedStepLog).split('\n').filter((l) => l.trim() !== '')) lines.push(`    | ${line}`);
  }
  return lines.join('\n');
}

/** A log from S3 is someone else's text: no escape sequences reach the terminal. */
function cleanLog(text: string): string {
  return text
    .split('\n')
    .map((l) => sanitize(l, 2000))
    .join('\n');
}
