import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetConsoleOutputCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilInstanceTerminated,
  type EC2Client,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import type { AwsClients } from '../aws/clients.ts';
import { packageVersion } from '../cli/version.ts';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { artifactUri, describeArtifact, packDir, packToolkit, stageArtifact, type Artifact } from './artifact.ts';
import { STREAMER_TAG, ec2Settings, instanceConfig, renderUserData, type Ec2Settings } from './settings.ts';

/** An EC2 streamer instance as the toolkit shows it. */
export interface StreamerInstance {
  id: string;
  /** pending, running, stopping, stopped, shutting-down, terminated. */
  state: string;
  /** Why it is in that state (a stop, a failure), when EC2 says. */
  stateReason?: string;
  type: string;
  imageId: string;
  launchedAt?: string;
  availabilityZone?: string;
  subnetId?: string;
  privateIp?: string;
  publicIp?: string;
  publicDns?: string;
  keyName?: string;
  /** The instance profile's ARN. */
  instanceProfile?: string;
  securityGroups: string[];
  tags: Record<string, string>;
}

/** What `launch` did. */
export interface LaunchResult {
  /** launched: a new instance; exists: one was already there, nothing started; planned: --dry-run. */
  action: 'launched' | 'exists' | 'planned';
  instance?: StreamerInstance;
  /** The toolkit tarball the instance installs (not for 'exists'). */
  artifact?: { uri: string; bytes: number; sha256: string; uploaded: boolean };
  /** The RunInstances request, user-data decoded (for 'launched' and 'planned'). */
  request?: Omit<RunInstancesCommandInput, 'UserData' | 'ClientToken'> & { UserData: string };
}

/** What `start`, `stop` and `terminate` did. */
export interface ChangeResult {
  /** The instance as it was before. */
  instance: StreamerInstance;
  /** False when it already was where it was asked to go. */
  changed: boolean;
  /** Its state after the call (after waiting, with `wait`). */
  state: string;
}

/** How `start`, `stop` and `terminate` go: `wait` for the state, or only say what would change. */
export interface ChangeOptions {
  wait?: boolean;
  dryRun?: boolean;
}

/** The states of an instance that still exists (and so blocks a second launch). */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/** How many times a launch that keeps meeting a racing launch tries before it gives up. */
const LAUNCH_ATTEMPTS = 5;

export interface Ec2StreamerOptions {
  /** How long `wait` waits for a state (default 10 min). */
  waitSeconds?: number;
}

/**
 * The EC2 streamer: one instance per `aws.ec2.name`, found by its `openevents:streamer` tag,
 * that runs `openevents stream --sink kinesis` under systemd (provisioning/ec2/). Launching
 * packs the running toolkit, stages the tarball in S3 by content hash and starts the instance
 * with user-data that installs it; a launch while one exists starts nothing, and a launch that
 * raced another ends with the older instance only. Returns data; never prints.
 */
export class Ec2Streamer {
  readonly settings: Ec2Settings;
  private readonly waitSeconds: number;

  constructor(
    private readonly config: Config,
    private readonly clients: AwsClients,
    options: Ec2StreamerOptions = {},
  ) {
    this.settings = ec2Settings(config, clients.region);
    this.waitSeconds = options.waitSeconds ?? 600;
  }

  private ec2(): Promise<EC2Client> {
    return this.clients.client('ec2');
  }

  /** Every live instance of this streamer, oldest first (normally none or one). */
  async find(): Promise<StreamerInstance[]> {
    const client = await this.ec2();
    const found: StreamerInstance[] = [];
    const pages = paginateDescribeInstances(
      { client },
      { Filters: [{ Name: `tag:${STREAMER_TAG}`, Values: [this.settings.name] }, { Name: 'instance-state-name', Values: LIVE_STATES }] },
    );
    for await (const page of pages) for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) found.push(toInstance(i));
    return found.sort((a, b) => (a.launchedAt ?? '').localeCompare(b.launchedAt ?? '') || a.id.localeCompare(b.id));
  }

  /** The one instance, or a UserError saying there is none. */
  private async one(): Promise<StreamerInstance> {
    const [instance] = await this.find();
    if (!instance) {
      throw new UserError(`no EC2 streamer "${this.settings.name}" in ${this.settings.region}`, { hint: 'start one with `openevents ec2 launch`' });
    }
    return instance;
  }

  /**
   * Launches the streamer unless one exists. `artifact`: a tarball built elsewhere (default:
   * pack the running toolkit). `dryRun`: pack and plan, upload and start nothing.
   */
  async launch(options: { artifact?: string; dryRun?: boolean; wait?: boolean } = {}): Promise<LaunchResult> {
    const instanceSettings = instanceConfig(this.config, this.settings.region);
    const [existing] = await this.find();
    if (existing) return { action: 'exists', instance: existing };

    const scratch = await packDir();
    try {
      const artifact: Artifact = options.artifact ? await describeArtifact(options.artifact) : await packToolkit(scratch.dir);
      const uri = artifactUri(this.settings.artifactUri, artifact);
      const userData = renderUserData({ name: this.settings.name, region: this.settings.region, artifact: uri, config: instanceSettings });
      const request = this.runRequest(userData, uri);
      const shown = { ...request, UserData: userData };
      if (options.dryRun) return { action: 'planned', artifact: { uri, bytes: artifact.bytes, sha256: artifact.sha256, uploaded: false }, request: shown };

      const uploaded = await stageArtifact(await this.clients.client('s3'), uri, artifact);
      const client = await this.ec2();
      // Two launches can race past find(). A launch that sees only its own instance afterwards keeps
      // it: any later launch's check comes after this one's RunInstances, so that one sees this
      // instance and yields. A launch that sees another yields: it ends its own instance, pauses a
      // random while and looks again (both yield when both see each other; the pause breaks the tie,
      // as on a shared Ethernet wire). Launch times are whole seconds, so they cannot order the two.
      // (Real EC2's DescribeInstances is eventually consistent; a few seconds' lag could still let two
      // through, and `ec2 status` shows both.)
      for (let attempt = 1; ; attempt++) {
        // One token per RunInstances: the SDK's retries of this call cannot start a second instance.
        const out = await client.send(new RunInstancesCommand({ ...request, UserData: Buffer.from(userData).toString('base64'), ClientToken: randomUUID() }));
        const launchedId = out.Instances?.[0]?.InstanceId;
        if (!launchedId) throw new Error('RunInstances answered without an instance');
        const others = (await this.find()).filter((i) => i.id !== launchedId);
        if (others.length === 0) {
          if (options.wait) await this.waitFor(client, launchedId, 'running');
          const instance = (await this.find()).find((i) => i.id === launchedId) ?? toInstance(out.Instances![0]!);
          return { action: 'launched', instance, artifact: { uri, bytes: artifact.bytes, sha256: artifact.sha256, uploaded }, request: shown };
        }
        await client.send(new TerminateInstancesCommand({ InstanceIds: [launchedId] }));
        if (attempt === LAUNCH_ATTEMPTS) {
          throw new UserError(`another launch of EC2 streamer "${this.settings.name}" kept racing this one; ${others.map((i) => i.id).join(', ')} exist`, {
            hint: 'run `openevents ec2 status`, then terminate what is extra',
          });
        }
        await sleep(500 + Math.random() * 2500);
        const [winner] = await this.find();
        if (winner) return { action: 'exists', instance: winner };
      }
    } finally {
      await scratch.remove();
    }
  }

  /** The RunInstances request (user-data in plain text; the caller encodes it). */
  private runRequest(userData: string, artifact: string): Omit<RunInstancesCommandInput, 'ClientToken'> & { UserData: string } {
    const s = this.settings;
    const tags = [
      { Key: 'Name', Value: s.name },
      { Key: STREAMER_TAG, Value: s.name },
      { Key: 'openevents:version', Value: packageVersion() },
      { Key: 'openevents:artifact', Value: artifact },
    ];
    return {
      ImageId: s.imageId,
      InstanceType: s.instanceType as RunInstancesCommandInput['InstanceType'],
      MinCount: 1,
      MaxCount: 1,
      IamInstanceProfile: { Name: s.instanceProfile },
      ...(s.keyName ? { KeyName: s.keyName } : {}),
      ...(s.subnetId ? { SubnetId: s.subnetId } : {}),
      ...(s.securityGroupId ? { SecurityGroupIds: [s.securityGroupId] } : {}),
      // IMDSv2 only: the instance role's credentials are not one GET away from a request forgery.
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
      // A shutdown from inside (or a crash of the OS) stops the instance; `ec2 start` brings it back.
      InstanceInitiatedShutdownBehavior: 'stop',
      TagSpecifications: [
        { ResourceType: 'instance', Tags: tags },
        { ResourceType: 'volume', Tags: tags },
      ],
      UserData: userData,
    };
  }

  /** Starts the stopped streamer; a running one is left as it is. */
  async start(options: ChangeOptions = {}): Promise<ChangeResult> {
    const instance = await this.one();
    if (instance.state === 'running' || instance.state === 'pending') return { instance, changed: false, state: instance.state };
    if (instance.state === 'stopping') {
      throw new UserError(`the EC2 streamer ${instance.id} is stopping`, { hint: 'run `openevents ec2 start` again once it has stopped (`ec2 status`)' });
    }
    return this.change(instance, options, 'pending', 'running', async (client, InstanceIds) => {
      const out = await client.send(new StartInstancesCommand({ InstanceIds }));
      return out.StartingInstances?.[0]?.CurrentState?.Name;
    });
  }

  /** Stops the streamer (its disk and checkpoint stay; `start` resumes it). */
  async stop(options: ChangeOptions = {}): Promise<ChangeResult> {
    const instance = await this.one();
    if (instance.state === 'stopped' || instance.state === 'stopping') return { instance, changed: false, state: instance.state };
    return this.change(instance, options, 'stopping', 'stopped', async (client, InstanceIds) => {
      const out = await client.send(new StopInstancesCommand({ InstanceIds }));
      return out.StoppingInstances?.[0]?.CurrentState?.Name;
    });
  }

  /** Terminates the streamer (its disk goes; its checkpoint is in the lake, so a new launch resumes). */
  async terminate(options: ChangeOptions = {}): Promise<ChangeResult> {
    const instance = await this.one();
    return this.change(instance, options, 'shutting-down', 'terminated', async (client, InstanceIds) => {
      const out = await client.send(new TerminateInstancesCommand({ InstanceIds }));
      return out.TerminatingInstances?.[0]?.CurrentState?.Name;
    });
  }

  /** Sends one state change (unless a dry run) and, with `wait`, waits until the instance is `done`. */
  private async change(
    instance: StreamerInstance,
    options: ChangeOptions,
    next: string,
    done: 'running' | 'stopped' | 'terminated',
    send: (client: EC2Client, ids: string[]) => Promise<string | undefined>,
  ): Promise<ChangeResult> {
    if (options.dryRun) return { instance, changed: true, state: next };
    const client = await this.ec2();
    const state = (await send(client, [instance.id])) ?? next;
    if (!options.wait) return { instance, changed: true, state };
    await this.waitFor(client, instance.id, done);
    return { instance, changed: true, state: done };
  }

  private async waitFor(client: EC2Client, id: string, state: 'running' | 'stopped' | 'terminated'): Promise<void> {
    const waiter = { running: waitUntilInstanceRunning, stopped: waitUntilInstanceStopped, terminated: waitUntilInstanceTerminated }[state];
    // Polls from every 2 s up to every 15 s (the SDK's default starts at 15 s).
    await waiter({ client, maxWaitTime: this.waitSeconds, minDelay: 2, maxDelay: 15 }, { InstanceIds: [id] });
  }

  /** The instance's serial console (boot, cloud-init, and the streamer's stdout and stderr). */
  async console(): Promise<{ instance: StreamerInstance; output: string; at?: string }> {
    const instance = await this.one();
    const out = await (await this.ec2()).send(new GetConsoleOutputCommand({ InstanceId: instance.id, Latest: true }));
    return { instance, output: out.Output ? Buffer.from(out.Output, 'base64').toString('utf8') : '', ...(out.Timestamp ? { at: out.Timestamp.toISOString() } : {}) };
  }

  /** How to reach the instance: SSH with the key pair and a public address, else Session Manager / Instance Connect. */
  async sshHint(): Promise<{ instance: StreamerInstance; commands: string[] }> {
    const instance = await this.one();
    const region = this.settings.region;
    const host = instance.publicDns || instance.publicIp;
    const commands: string[] = [];
    // Debian's images log in as "admin".
    if (instance.keyName && host) commands.push(`ssh -i ~/.ssh/${instance.keyName}.pem admin@${host}`);
    commands.push(`aws ssm start-session --region ${region} --target ${instance.id}`);
    commands.push(`aws ec2-instance-connect ssh --region ${region} --instance-id ${instance.id} --os-user admin`);
    commands.push('then: journalctl -u openevents-streamer -f   (and /var/log/cloud-init-output.log for the first boot)');
    return { instance, commands };
  }
}

/** Builds the EC2 streamer service of a config. */
export function ec2Streamer(config: Config, clients: AwsClients, options: Ec2StreamerOptions = {}): Ec2Streamer {
  return new Ec2Streamer(config, clients, options);
}

function toInstance(i: Instance): StreamerInstance {
  const tags = Object.fromEntries((i.Tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));
  return {
    id: i.InstanceId ?? '',
    state: i.State?.Name ?? 'unknown',
    ...(i.StateReason?.Message ? { stateReason: i.StateReason.Message } : {}),
    type: i.InstanceType ?? '',
    imageId: i.ImageId ?? '',
    ...(i.LaunchTime ? { launchedAt: i.LaunchTime.toISOString() } : {}),
    ...(i.Placement?.AvailabilityZone ? { availabilityZone: i.Placement.AvailabilityZone } : {}),
    ...(i.SubnetId ? { subnetId: i.SubnetId } : {}),
    ...(i.PrivateIpAddress ? { privateIp: i.PrivateIpAddress } : {}),
    ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
    ...(i.PublicDnsName ? { publicDns: i.PublicDnsName } : {}),
    ...(i.KeyName ? { keyName: i.KeyName } : {}),
    ...(i.IamInstanceProfile?.Arn ? { instanceProfile: i.IamInstanceProfile.Arn } : {}),
    securityGroups: (i.SecurityGroups ?? []).map((g) => g.GroupId ?? g.GroupName ?? '').filter(Boolean),
    tags,
  };
}

