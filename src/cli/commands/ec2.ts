import type { Command } from 'commander';
import type { ChangeResult, Ec2Streamer, StreamerInstance } from '../../ec2/streamer.ts';
import { escapeTerminal } from '../../text.ts';
import { printJson, println, type CliContext } from '../context.ts';

interface Ec2Flags {
  lake?: string;
  json?: boolean;
  dryRun?: boolean;
  wait?: boolean;
}

/** Registers `openevents ec2 launch|start|stop|terminate|status|ssh-hint|user-data`. */
export function registerEc2Commands(program: Command, ctx: CliContext): void {
  const ec2 = program
    .command('ec2')
    .summary('The streamer on an EC2 instance: launch, stop, status')
    .description('The EC2 streamer: one instance (found by its openevents:streamer tag, never a second one) that runs `openevents stream --sink kinesis` under systemd.')
    .addHelpText(
      'after',
      `
Settings are under aws.ec2 in the config: name (the tag value), instanceType, imageId (an AMI or
resolve:ssm:…; Debian 12 by default), subnetId, securityGroupId, keyName, instanceProfile (the
role \`infra up\` creates: openevents-streamer) and artifactUri (where the toolkit's npm pack
tarball is staged; default <lake>/_ec2/). The instance reads source.url and writes the lake and
aws.kinesis.stream; its telemetry goes to CloudWatch Logs (aws.logs.group). See README "The EC2
streamer".`,
    );

  const service = async (flags: Ec2Flags): Promise<{ streamer: Ec2Streamer; runtime: ReturnType<CliContext['runtime']> }> => {
    const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
    const runtime = ctx.runtime(config);
    const [{ ec2Streamer }, aws] = await Promise.all([import('../../ec2/streamer.ts'), runtime.aws()]);
    return { streamer: ec2Streamer(config, aws), runtime };
  };
  const audit = async (runtime: ReturnType<CliContext['runtime']>, action: string, instance: string, data: Record<string, unknown> = {}): Promise<void> => {
    const { osUser } = await import('../../jobs/local.ts');
    (await runtime.telemetry('ec2')).emit({
      level: 'info',
      component: 'ec2',
      kind: 'audit',
      msg: `ec2 ${action}: ${instance}`,
      data: { who: osUser(), action: `ec2 ${action}`, instance, ...data },
    });
  };
  const common = (cmd: Command): Command =>
    cmd.option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")').option('--json', 'print the result as JSON');

  common(
    ec2
      .command('launch')
      .summary('Launch the EC2 streamer unless one exists')
      .description('Pack this toolkit, stage the tarball in S3 (once per content hash) and launch the streamer instance with its user-data. If an instance of this name exists (running or stopped), nothing is started.')
      .option('--artifact <file.tgz>', 'install this npm pack tarball instead of packing the running toolkit')
      .option('--dry-run', 'print the RunInstances request and the user-data; upload and start nothing')
      .option('--wait', 'wait until the instance is running'),
  ).action(async (flags: Ec2Flags & { artifact?: string }) => {
    const { streamer, runtime } = await service(flags);
    const result = await streamer.launch({ ...(flags.artifact ? { artifact: flags.artifact } : {}), dryRun: flags.dryRun === true, wait: flags.wait === true });
    if (result.action === 'launched') await audit(runtime, 'launch', result.instance!.id, { artifact: result.artifact?.uri });
    if (flags.json) return printJson(ctx.stdout, result);
    if (result.action === 'exists') {
      const i = result.instance!;
      println(ctx.stdout, `EC2 streamer "${streamer.settings.name}" exists: ${i.id} (${i.state}); nothing launched`);
      if (i.state === 'stopped') println(ctx.stdout, 'start it with `openevents ec2 start`');
      return;
    }
    const a = result.artifact!;
    if (result.action === 'planned') {
      println(ctx.stdout, `would upload ${a.uri} (${a.bytes} bytes) unless already there, then send (dry run: nothing changed):`);
      const { UserData, ...request } = result.request!;
      printJson(ctx.stdout, { RunInstances: request });
      println(ctx.stdout, 'user-data:');
      ctx.stdout.write(UserData.endsWith('\n') ? UserData : `${UserData}\n`);
      return;
    }
    println(ctx.stdout, `${a.uploaded ? 'uploaded' : 'already staged:'} ${a.uri} (${a.bytes} bytes)`);
    for (const line of instanceLines(result.instance!)) println(ctx.stdout, line);
    println(ctx.stdout, 'the instance installs the toolkit and starts openevents-streamer at first boot (a few minutes); watch with `openevents ec2 status --console` and `openevents logs --component stream -f`');
  });

  const change = (verb: 'start' | 'stop' | 'terminate', summary: string, description: string): Command =>
    common(
      ec2
        .command(verb)
        .summary(summary)
        .description(description)
        .option('--dry-run', 'say what would change; change nothing')
        .option('--wait', `wait until the instance has ${verb === 'start' ? 'started' : verb === 'stop' ? 'stopped' : 'terminated'}`),
    );
  const report = (verb: string, result: ChangeResult, flags: Ec2Flags): void => {
    if (flags.json) return printJson(ctx.stdout, result);
    const { instance } = result;
    if (!result.changed) return println(ctx.stdout, `EC2 streamer ${instance.id} is already ${instance.state}; nothing to ${verb}`);
    println(ctx.stdout, `${flags.dryRun ? 'would ' : ''}${verb} EC2 streamer ${instance.id}: ${instance.state} → ${result.state}${flags.dryRun ? ' (dry run: nothing changed)' : ''}`);
  };
  for (const [verb, summary, description] of [
    ['start', 'Start the stopped EC2 streamer', 'Start the streamer instance; it resumes from its checkpoint in the lake. A running one is left as it is.'],
    ['stop', 'Stop the EC2 streamer', 'Stop the streamer instance (its disk stays; `ec2 start` resumes it). The streamer gets SIGTERM and writes its checkpoint.'],
  ] as const) {
    change(verb, summary, description).action(async (flags: Ec2Flags) => {
      const { streamer, runtime } = await service(flags);
      const result = await streamer[verb]({ wait: flags.wait === true, dryRun: flags.dryRun === true });
      if (result.changed && !flags.dryRun) await audit(runtime, verb, result.instance.id);
      report(verb, result, flags);
    });
  }
  change('terminate', 'Terminate the EC2 streamer', 'Terminate the streamer instance (its disk goes; its checkpoint is in the lake, so `ec2 launch` starts a new one that resumes). Needs --yes.')
    .option('--yes', 'really terminate')
    .action(async (flags: Ec2Flags & { yes?: boolean }) => {
      const { UserError } = await import('../../errors.ts');
      if (!flags.yes && !flags.dryRun) throw new UserError('terminating the EC2 streamer removes its instance and disk', { hint: 'add --yes to go ahead, or use `openevents ec2 stop` to keep it' });
      const { streamer, runtime } = await service(flags);
      const result = await streamer.terminate({ wait: flags.wait === true, dryRun: flags.dryRun === true });
      if (!flags.dryRun) await audit(runtime, 'terminate', result.instance.id);
      report('terminate', result, flags);
    });

  common(
    ec2
      .command('status')
      .summary('Show the EC2 streamer instance')
      .description('Show the streamer instance: state, type, addresses, profile, image, version it runs; with --console, also its serial console (boot, cloud-init and the streamer\'s output).')
      .option('--console', 'also print the instance\'s latest serial console output'),
  ).action(async (flags: Ec2Flags & { console?: boolean }) => {
    const { streamer } = await service(flags);
    const instances = await streamer.find();
    const consoleOutput = flags.console && instances.length > 0 ? await streamer.console() : undefined;
    if (flags.json) return printJson(ctx.stdout, { name: streamer.settings.name, region: streamer.settings.region, instances, ...(consoleOutput ? { console: consoleOutput.output } : {}) });
    if (instances.length === 0) {
      println(ctx.stdout, `no EC2 streamer "${streamer.settings.name}" in ${streamer.settings.region}; start one with \`openevents ec2 launch\``);
      return;
    }
    if (instances.length > 1) println(ctx.stdout, `warning: ${instances.length} instances carry the tag openevents:streamer=${streamer.settings.name}; terminate all but one (the toolkit never launches a second)`);
    for (const instance of instances) for (const line of instanceLines(instance)) println(ctx.stdout, line);
    if (consoleOutput) {
      println(ctx.stdout, `console${consoleOutput.at ? ` (${consoleOutput.at})` : ''}:`);
      // The console holds whatever the machine printed: shown with control characters escaped.
      for (const line of (consoleOutput.output || '(empty)').split(/\r?\n/)) println(ctx.stdout, escapeTerminal(line));
    }
  });

  common(ec2.command('ssh-hint').summary('Print how to reach the EC2 streamer').description('Print the commands that open a shell on the streamer instance: SSH with its key pair, Session Manager, EC2 Instance Connect.')).action(
    async (flags: Ec2Flags) => {
      const { streamer } = await service(flags);
      const hint = await streamer.sshHint();
      if (flags.json) return printJson(ctx.stdout, hint);
      for (const command of hint.commands) println(ctx.stdout, command);
    },
  );

  ec2
    .command('user-data')
    .summary('Print the EC2 streamer\'s cloud-init user-data')
    .description('Print the cloud-init user-data `ec2 launch` gives the instance, for launching it with other tools (Terraform, a launch template).')
    .requiredOption('--artifact <s3://…/openevents-….tgz>', 'the staged toolkit tarball the instance installs')
    .option('--lake <s3://bucket/prefix>', 'the lake (default: config "lake")')
    .action(async (flags: { artifact: string; lake?: string }) => {
      const config = ctx.config(flags.lake ? { lake: flags.lake } : {});
      const [{ ec2Settings, instanceConfig, renderUserData }, { regionFor }] = await Promise.all([import('../../ec2/settings.ts'), import('../../aws/clients.ts')]);
      const region = regionFor(ctx.runtime(config).awsOptions);
      const settings = ec2Settings(config, region);
      ctx.stdout.write(renderUserData({ name: settings.name, region, artifact: flags.artifact, config: instanceConfig(config, region) }));
    });
}

/** An instance as lines for a terminal (tag values and names escaped: anyone may tag an instance). */
function instanceLines(i: StreamerInstance): string[] {
  const e = escapeTerminal;
  const lines = [`instance ${e(i.id)}: ${e(i.state)}${i.stateReason ? ` (${e(i.stateReason)})` : ''}`];
  lines.push(`  type ${e(i.type)}, image ${e(i.imageId)}${i.availabilityZone ? `, zone ${e(i.availabilityZone)}` : ''}${i.launchedAt ? `, launched ${i.launchedAt}` : ''}`);
  const addresses = [i.privateIp && `private ${e(i.privateIp)}`, i.publicIp && `public ${e(i.publicIp)}`, i.publicDns && e(i.publicDns)].filter(Boolean);
  if (addresses.length > 0) lines.push(`  address ${addresses.join(', ')}`);
  lines.push(`  profile ${e(i.instanceProfile ?? '(none)')}${i.keyName ? `, key pair ${e(i.keyName)}` : ''}${i.subnetId ? `, subnet ${e(i.subnetId)}` : ''}`);
  const version = i.tags['openevents:version'];
  if (version) lines.push(`  toolkit ${e(version)} from ${e(i.tags['openevents:artifact'] ?? '?')}`);
  return lines;
}
