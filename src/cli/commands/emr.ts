import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import type { JobRecord } from '../../jobs/types.ts';
import type { StagePlans } from '../../emr/pipeline.ts';
import { EMR_STAGES } from '../../emr/stages.ts';
import type { Collected } from '../../emr/collect.ts';
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
    .description("Run an hour's steps on a cluster, at most once")
    .addHelpText(
      'after',
      `
Steps run in pipeline order, etl → ml → report; a failed step stops the rest (aws.emr.actionOnFailure
TERMINATE_CLUSTER, the default, or CANCEL_AND_WAIT; CONTINUE lets them run).
The cluster is tagged with the hour and the steps: while one for the same hour and steps is active,
nothing new starts.

etl     the hour's ETL plan: the batches \`openevents etl\` makes of it, written to
        <lake>/_emr/etl/<hour>_<hour>-<hash>/plan.json and read by spark/jobs/etl.py, which writes the
        segment files into the lake and each batch's result beside the plan.
ml      spark/jobs/ml.py trains ml.model (rf when unset: Spark has no ensemble) on the curated tables
        as committed now, split as \`ml train\` splits; the rows go to <lake>/_emr/ml/<run>/, the model
        straight to <lake>/models/<run>/spark-model/. The run is listed once its metrics are written.
report  the toolkit itself on the primary node (its npm pack tarball staged by content hash under
        <codeUri>toolkit/, installed with Node.js 20 by provisioning/emr/toolkit.sh): commits what
        the steps before wrote (\`emr collect\`), then \`report build\` and \`report publish\` to
        aws.report.bucket.

Results are committed by the cluster when report is among the steps; else by --wait when the
cluster ends, or later by \`openevents emr collect [--hour <hour>]\` (\`etl --engine emr --hour <hour>\`
and the scheduler also commit an hour's ETL results, waiting for the cluster if it still runs).`,
    )
    .requiredOption('--hour <YYYY-MM-DDTHH>', 'the UTC arrival hour to process')
    .option('--steps <list>', `comma-separated stages to run as EMR steps, of ${EMR_STAGE_NAMES}`, 'etl')
    .option('--spot', 'ask for Spot capacity (instance fleets switch to on-demand when Spot is not found in time)')
    .option('--dry-run', 'print the RunJobFlow request (and the code, toolkit and plan it would upload) and start nothing')
    .option('--wait', 'wait until the cluster ends, printing its state changes, then commit its results; exit 1 if it failed')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print the result as JSON')
    .action(async (opts: Common & { hour: string; steps: string; spot?: boolean; dryRun?: boolean; wait?: boolean }) => {
      const { pipelineJob, parseHour, parseStages } = await import('../../emr/pipeline.ts');
      const [{ JobRunningError }, { planHourBatches }, { etlPlan }, { putJson }, ml, { collectResults }] = await Promise.all([
        import('../../jobs/runner.ts'),
        import('../../etl/run.ts'),
        import('../../etl/engines/emr.ts'),
        import('../../lake/store.ts'),
        import('../../ml/service.ts'),
        import('../../emr/collect.ts'),
      ]);
      const hour = parseHour(opts.hour);
      const stages = parseStages(opts.steps);
      const { config, runner, settings } = await service(opts);
      const store = await ctx.runtime(config).lake({ mustExist: true });
      const plans: StagePlans = {};
      if (stages.includes('report')) {
        if (!config.aws.report.bucket) throw new UserError('the report step publishes to aws.report.bucket, which is not set', { hint: 'set aws.report.bucket (OPENEVENTS_AWS_REPORT_BUCKET), or run without the report step' });
        plans.report = { bucket: config.aws.report.bucket, prefix: config.aws.report.prefix };
      }
      if (stages.includes('etl')) {
        const planning = { graceMs: config.stream.hourGraceMs, batchRecords: config.etl.batchRecords, batchBytes: config.etl.batchBytes };
        const batches = await planHourBatches(store, [hour], { ...planning, startedAt: new Date() });
        if (batches.length === 0) {
          throw new UserError(`hour ${hour} cannot be processed: its raw objects do not match its manifest`, { hint: 'see `openevents lake check`' });
        }
        if (batches.every((b) => b.inputs.length === 0)) {
          throw new UserError(`the lake has no raw objects for hour ${hour}: nothing to run`, { hint: 'see the hours there are with `openevents lake ls`' });
        }
        plans.etl = etlPlan(settings, batches);
      }
      const staged = stages.includes('ml')
        ? await ml.stageEmrRun(store, { params: ml.paramsFromConfig(config.ml, { model: config.ml.model ?? 'rf' }), dryRun: Boolean(opts.dryRun) })
        : undefined;
      if (staged) plans.ml = staged.step;
      const spec = pipelineJob(settings, hour, stages, plans);
      const etlSummary = plans.etl && { uri: plans.etl.uri, batches: plans.etl.doc.batches.length, objects: plans.etl.doc.batches.reduce((n, b) => n + b.inputs.length, 0) };
      if (opts.dryRun) {
        const { artifact: _file, ...request } = await runner.plan(spec);
        if (opts.json) printJson(ctx.stdout, { ...request, ...(etlSummary ? { etl: etlSummary } : {}), ...(staged ? { ml: { runId: staged.runId } } : {}) });
        else {
          println(ctx.stdout, `would upload ${request.code.files} files (${request.code.bytes} bytes) to ${request.code.uri} unless already there,`);
          if (request.toolkit) println(ctx.stdout, `the toolkit (${request.toolkit.bytes} bytes) to ${request.toolkit.uri} unless already there,`);
          if (etlSummary) println(ctx.stdout, `the ETL plan (${etlSummary.batches} batch(es), ${etlSummary.objects} raw object(s)) to ${etlSummary.uri},`);
          if (staged) println(ctx.stdout, `the rows of training run ${staged.runId} to ${settings.lake}_emr/ml/${staged.runId}/,`);
          println(ctx.stdout, 'then send:');
          printJson(ctx.stdout, { RunJobFlow: request.request });
        }
        return;
      }
      let job: JobRecord;
      let started = true;
      try {
        if (plans.etl) await putJson(store, plans.etl.key, plans.etl.doc);
        const submitted = await runner.submit(spec);
        job = submitted.job;
        if (!opts.json) {
          println(ctx.stdout, `code ${submitted.code.hash} ${submitted.code.uploaded ? `uploaded to ${submitted.code.uri}` : `already at ${submitted.code.uri}`}`);
          if (submitted.toolkit) println(ctx.stdout, `toolkit ${submitted.toolkit.uploaded ? 'uploaded to' : 'already at'} ${submitted.toolkit.uri}`);
          if (staged) println(ctx.stdout, `training run ${staged.runId} staged`);
          println(ctx.stdout, `started cluster ${job.id} (${job.label}): ${job.cluster?.state ?? job.state}`);
        }
      } catch (error) {
        if (staged) await ml.discardEmrRun(store, staged.runId);
        if (!(error instanceof JobRunningError)) throw error;
        job = error.job;
        started = false;
        if (!opts.json) println(ctx.stdout, `nothing started: cluster ${job.id} (${job.label}) is already ${job.cluster?.state ?? job.state}`);
      }
      let collected: Collected | undefined;
      if (opts.wait) {
        job = await runner.wait(job.id, {
          signal: ctx.stopSignal,
          onChange: (r) => println(opts.json ? ctx.stderr : ctx.stdout, progressLine(r)),
        });
        // With the report step the cluster has committed its results itself (emr collect on the primary node).
        if (job.state === 'succeeded' && !stages.includes('report')) {
          collected = await collectResults(config, settings, store, { ...(stages.includes('etl') ? { hour } : {}), job, signal: ctx.stopSignal });
          if (!opts.json) for (const line of collectedLines(collected)) println(ctx.stdout, line);
        }
      }
      if (opts.json) printJson(ctx.stdout, { started, job, ...(staged ? { ml: { runId: staged.runId } } : {}), ...(collected ?? {}) });
      if (opts.wait && job.state !== 'succeeded') {
        throw new UserError(`cluster ${job.id} ${job.state}${job.reason ? `: ${sanitize(job.reason, 500)}` : ''}`, { hint: `see \`openevents emr status ${job.id}\` and \`openevents emr logs ${job.id}\`` });
      }
      const failed = collected?.etl?.failed ?? [];
      if (failed.length > 0) throw new UserError(`${failed.length} hour(s) failed: ${failed.join(', ')}`, { hint: 'see `openevents lake ls`' });
    });

  emr
    .command('collect')
    .description("Commit what clusters' steps wrote to the lake")
    .addHelpText(
      'after',
      `
With --hour, the hour's ETL results are committed to the curated tables (a batch without a result
fails the hour: run \`openevents etl --engine emr --hour <hour>\` to run it again). Every training run
whose EMR step has finished is written to <lake>/models/<run>/ with its metrics. The report step
of \`emr run\` runs this on the cluster before it builds the report.`,
    )
    .option('--hour <YYYY-MM-DDTHH>', "also commit this hour's ETL results")
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print what was committed as JSON')
    .action(async (opts: Common & { hour?: string }) => {
      // No EMR client: this runs on the cluster too (the report step), as the nodes' role, which may not call EMR.
      const [{ parseHour }, { emrSettings }, { collectResults }] = await Promise.all([import('../../emr/pipeline.ts'), import('../../emr/settings.ts'), import('../../emr/collect.ts')]);
      const hour = opts.hour !== undefined ? parseHour(opts.hour) : undefined;
      const config = ctx.config(opts.lake ? { lake: opts.lake } : {});
      const store = await ctx.runtime(config).lake({ mustExist: true });
      const collected = await collectResults(config, emrSettings(config), store, { ...(hour ? { hour } : {}), signal: ctx.stopSignal });
      if (opts.json) printJson(ctx.stdout, collected);
      else for (const line of collectedLines(collected)) println(ctx.stdout, line);
      const failed = collected.etl?.failed ?? [];
      if (failed.length > 0) throw new UserError(`${failed.length} hour(s) failed: ${failed.join(', ')}`, { hint: 'see `openevents lake ls`' });
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

const EMR_STAGE_NAMES = EMR_STAGES.join(', ');

function collectedLines(collected: Collected): string[] {
  const { etl, runs } = collected;
  return [
    ...(etl ? [`committed ${etl.hours.length - etl.failed.length} hour(s), ${etl.validRecords} valid records${etl.failed.length ? `; failed: ${etl.failed.join(', ')}` : ''}`] : []),
    ...runs.map((run) => `training run ${run} written`),
    ...(!etl && runs.length === 0 ? ['nothing to commit'] : []),
  ];
}

/** One line per state change of a cluster being waited for. */
export function progressLine(job: JobRecord): string {
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
