import type { Command } from 'commander';
import type { InfraResource, PlannedChange, ResourceStatus } from '../../aws/infra.ts';
import { printJson, println, type CliContext } from '../context.ts';

interface InfraFlags {
  lake?: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
}

/** Registers `openevents infra up|status|down`. */
export function registerInfraCommands(program: Command, ctx: CliContext): void {
  const infra = program
    .command('infra')
    .summary('The AWS resources of the aws profile: up, status, down')
    .description('The AWS resources of the aws profile, made to match the config: lake bucket, report website bucket, log group, Kinesis stream, Firehose delivery stream.')
    .addHelpText(
      'after',
      `
Resources come from the config: the lake bucket from "lake" (s3://bucket/prefix; private, Block
Public Access on), the report website bucket from aws.report.bucket (website hosting, public read
on aws.report.prefix only: its Block Public Access allows that one policy and keeps ACLs
blocked), the log group aws.logs.group (retention aws.logs.retentionDays), the Kinesis stream
aws.kinesis.stream (aws.kinesis.shards), and the Firehose delivery stream
aws.firehose.deliveryStream when set (into <lake>/raw/YYYY/MM/DD/HH/). Region and endpoint:
aws.region, aws.endpointUrl / AWS_ENDPOINT_URL; credentials by the SDK's usual chain.`,
    );

  const run = async (direction: 'up' | 'down', flags: InfraFlags): Promise<void> => {
    const { resources, region, runtime } = await prepare(ctx, flags);
    const { applyPlan, planInfra } = await import('../../aws/infra.ts');
    const plan = await planInfra(direction, resources, { force: flags.force === true });
    const changes = plan.filter((c) => c.apply !== undefined);
    if (flags.dryRun) {
      if (flags.json) return printJson(ctx.stdout, { direction, region, dryRun: true, plan: plan.map(planJson) });
      println(ctx.stdout, `infra ${direction} in ${region} (dry run: nothing is changed):`);
      for (const line of planLines(plan)) println(ctx.stdout, line);
      println(ctx.stdout, changes.length === 0 ? 'nothing to do' : `${changes.length} resource(s) would change`);
      return;
    }
    if (!flags.json) println(ctx.stdout, `infra ${direction} in ${region}:`);
    const done = await applyPlan(plan, (change) => {
      if (!flags.json) for (const line of planLines([change])) println(ctx.stdout, line);
    });
    if (done.length > 0) {
      const { osUser } = await import('../../jobs/local.ts');
      (await runtime.telemetry('infra')).emit({
        level: 'info',
        component: 'infra',
        kind: 'audit',
        msg: `infra ${direction}: ${done.map((c) => `${c.action} ${c.resource.kind} ${c.resource.name}`).join(', ')}`,
        data: { who: osUser(), action: `infra ${direction}`, region, changes: done.map((c) => ({ action: c.action, kind: c.resource.kind, name: c.resource.name })) },
      });
    }
    if (flags.json) return printJson(ctx.stdout, { direction, region, dryRun: false, plan: plan.map(planJson) });
    for (const line of planLines(plan.filter((c) => c.apply === undefined))) println(ctx.stdout, line);
    println(ctx.stdout, done.length === 0 ? 'nothing to do: everything matches the config' : `${done.length} resource(s) changed`);
  };

  infra
    .command('up')
    .summary('Create or fix the resources to match the config')
    .description('Create what is missing and bring what differs in line with the config (idempotent: a second run changes nothing).')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--json', 'print the plan and what was done as JSON')
    .action((flags: InfraFlags) => run('up', flags));

  infra
    .command('status')
    .summary('Show what exists and what differs from the config')
    .description('Show what exists and how it differs from the config.')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--json', 'print the status as JSON')
    .action(async (flags: InfraFlags) => {
      const { resources, region } = await prepare(ctx, flags);
      const { infraStatus } = await import('../../aws/infra.ts');
      const status = await infraStatus(resources);
      const inSync = status.every((s) => s.skipped || (s.exists && s.drift.length === 0));
      if (flags.json) return printJson(ctx.stdout, { region, inSync, resources: status });
      println(ctx.stdout, `infra in ${region}:`);
      for (const s of status) println(ctx.stdout, statusLine(s));
      println(ctx.stdout, inSync ? 'everything matches the config' : 'run `openevents infra up` to create what is missing and fix what differs');
    });

  infra
    .command('down')
    .summary('Remove the resources (non-empty buckets need --force)')
    .description('Remove the resources (reverse order). A bucket that holds objects is refused, and then nothing is removed, unless --force.')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--force', 'also delete non-empty buckets, with every object in them')
    .option('--json', 'print the plan and what was done as JSON')
    .action((flags: InfraFlags) => run('down', flags));
}

async function prepare(ctx: CliContext, flags: InfraFlags): Promise<{ resources: InfraResource[]; region: string; runtime: ReturnType<CliContext['runtime']> }> {
  const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
  const runtime = ctx.runtime(config);
  const [{ infraResources, infraSpec }, aws] = await Promise.all([import('../../aws/infra.ts'), runtime.aws()]);
  const resources = infraResources(infraSpec(config, aws.region), aws);
  return { resources, region: aws.region, runtime };
}

const MARK: Record<PlannedChange['action'], string> = { create: '+ create', update: '~ update', delete: '- delete', none: '= ok    ', skip: '  skip  ', refuse: '! refuse' };

/** A plan as lines: one per resource, then one per change. */
export function planLines(plan: readonly PlannedChange[]): string[] {
  const out: string[] = [];
  for (const c of plan) {
    const what = `${c.resource.kind} "${c.resource.name}" (${c.resource.role})`;
    out.push(`  ${MARK[c.action]}  ${c.action === 'skip' ? `${c.resource.role}: ${c.reason ?? ''}` : what}${c.action === 'refuse' ? `: ${c.reason ?? ''}` : ''}`);
    for (const change of c.changes) out.push(`              ${change}`);
  }
  return out;
}

/** One resource of `infra status`. */
export function statusLine(s: ResourceStatus): string {
  if (s.skipped) return `  skipped  ${s.role}: ${s.reason ?? ''}`;
  const head = `${s.kind} "${s.name}" (${s.role})`;
  if (!s.exists) return `  missing  ${head}`;
  const facts = Object.entries(s.details)
    .filter(([k]) => k !== 'versionId' && k !== 'destinationId')
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  return s.drift.length === 0 ? `  ok       ${head}: ${facts}` : `  differs  ${head}: ${s.drift.join('; ')} (${facts})`;
}

function planJson(c: PlannedChange): Omit<PlannedChange, 'apply'> {
  const { apply: _apply, ...rest } = c;
  return rest;
}
