import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

/**
 * A small EMR endpoint for tests: the AWS JSON 1.1 protocol (`POST /`, `X-Amz-Target:
 * ElasticMapReduce.<Operation>`) on a real HTTP server, with clusters that walk their states as
 * time passes — moto's clusters never leave WAITING. Each cluster spends `tickMs` in STARTING,
 * BOOTSTRAPPING, then each step runs for `tickMs` (PENDING → RUNNING → COMPLETED), then
 * TERMINATING and TERMINATED (ALL_STEPS_COMPLETED). A scenario can fail one step: it ends
 * FAILED with FailureDetails, the steps after it CANCELLED, the cluster TERMINATED_WITH_ERRORS
 * (STEP_FAILURE), and the step's stderr.gz is written under LogUri as EMR does (`putLog`).
 * Operations: RunJobFlow, DescribeCluster, ListClusters, ListSteps, TerminateJobFlows.
 */
export interface FakeEmrScenario {
  tickMs?: number;
  failStep?: { index: number; reason?: string; message?: string; stderr?: string };
  /**
   * Runs each step for real when it starts (a test's stand-in for the cluster's nodes): the step
   * stays RUNNING until it resolves, and fails (FailureDetails, stderr under LogUri) when its exit
   * code is not 0. Without it, each step takes one tick.
   */
  runStep?: (step: { name: string; args: string[] }) => Promise<{ exitCode: number; stderr?: string }>;
}

export interface FakeEmr {
  endpoint: string;
  /** Every request: operation and body. */
  requests: Array<{ operation: string; body: Record<string, unknown> }>;
  /** The scenario of the next cluster started. */
  next: FakeEmrScenario;
  close(): Promise<void>;
}

interface FakeStep {
  id: string;
  name: string;
  args: string[];
  actionOnFailure: string;
}

interface FakeCluster {
  id: string;
  name: string;
  createdMs: number;
  logUri?: string;
  releaseLabel?: string;
  tags: Array<{ Key: string; Value: string }>;
  steps: FakeStep[];
  scenario: Required<Pick<FakeEmrScenario, 'tickMs'>> & FakeEmrScenario;
  terminatedAtMs?: number;
  logWritten?: boolean;
  /** Steps run by `runStep`: when each ended and how. */
  runs: Array<{ endMs?: number; exitCode?: number; stderr?: string }>;
}

export async function startFakeEmr(options: { putLog?: (uri: string, gzipped: boolean, body: string) => Promise<void>; now?: () => number } = {}): Promise<FakeEmr> {
  const now = options.now ?? Date.now;
  const clusters = new Map<string, FakeCluster>();
  const requests: FakeEmr['requests'] = [];
  const fake = { next: {} as FakeEmrScenario };

  const handle = async (operation: string, body: Record<string, unknown>): Promise<unknown> => {
    switch (operation) {
      case 'RunJobFlow': {
        const id = `j-${randomBytes(6).toString('hex').toUpperCase()}`;
        const steps = ((body.Steps as Array<Record<string, unknown>>) ?? []).map((s) => {
          const jar = s.HadoopJarStep as { Args?: string[] };
          return { id: `s-${randomBytes(6).toString('hex').toUpperCase()}`, name: String(s.Name), args: jar.Args ?? [], actionOnFailure: String(s.ActionOnFailure ?? 'TERMINATE_CLUSTER') };
        });
        clusters.set(id, {
          id,
          name: String(body.Name),
          createdMs: now(),
          ...(typeof body.LogUri === 'string' ? { logUri: body.LogUri } : {}),
          ...(typeof body.ReleaseLabel === 'string' ? { releaseLabel: body.ReleaseLabel } : {}),
          tags: (body.Tags as FakeCluster['tags']) ?? [],
          steps,
          scenario: { tickMs: 150, ...fake.next },
          runs: [],
        });
        return { JobFlowId: id, ClusterArn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${id}` };
      }
      case 'DescribeCluster': {
        const c = cluster(body.ClusterId);
        const view = await viewOf(c);
        return {
          Cluster: {
            Id: c.id,
            Name: c.name,
            Status: view.status,
            ...(c.logUri ? { LogUri: c.logUri.replace(/^s3:/, 's3n:') } : {}), // EMR answers s3n://
            ReleaseLabel: c.releaseLabel,
            Tags: c.tags,
            NormalizedInstanceHours: view.instanceHours,
            AutoTerminate: true,
          },
        };
      }
      case 'ListClusters': {
        const states = body.ClusterStates as string[] | undefined;
        const after = typeof body.CreatedAfter === 'number' ? body.CreatedAfter * 1000 : undefined;
        const out = [];
        for (const c of [...clusters.values()].sort((a, b) => b.createdMs - a.createdMs)) {
          const view = await viewOf(c);
          if (states && !states.includes(view.status.State)) continue;
          if (after !== undefined && c.createdMs < after) continue;
          out.push({ Id: c.id, Name: c.name, Status: view.status, NormalizedInstanceHours: view.instanceHours });
        }
        return { Clusters: out };
      }
      case 'ListSteps': {
        const c = cluster(body.ClusterId);
        const view = await viewOf(c);
        return { Steps: [...view.steps].reverse() }; // newest first, as EMR answers
      }
      case 'TerminateJobFlows': {
        for (const id of body.JobFlowIds as string[]) {
          const c = cluster(id);
          c.terminatedAtMs ??= now();
        }
        return {};
      }
      default:
        throw Object.assign(new Error(`the fake EMR does not know ${operation}`), { type: 'UnknownOperationException' });
    }
  };

  function cluster(id: unknown): FakeCluster {
    const c = clusters.get(String(id));
    if (!c) throw Object.assign(new Error(`Cluster id '${String(id)}' is not valid.`), { type: 'InvalidRequestException' });
    return c;
  }

  /** The cluster as of now: its status, its steps' summaries and instance hours. */
  async function viewOf(c: FakeCluster) {
    const t = c.scenario.tickMs;
    const at = now();
    const elapsed = at - c.createdMs;
    const seconds = (ms: number): number => ms / 1000;
    const stepsStart = c.createdMs + 2 * t;
    // When each step starts and ends: a tick each, or as long as runStep takes.
    const starts: number[] = [];
    const ends: number[] = [];
    let fail = c.scenario.failStep;
    for (let i = 0; i < c.steps.length; i++) {
      const start = i === 0 ? stepsStart : ends[i - 1]!;
      starts.push(start);
      const runStep = c.scenario.runStep;
      if (!runStep) {
        ends.push(start + t);
        continue;
      }
      if (!c.runs[i] && at >= start && c.terminatedAtMs === undefined && !fail) {
        const run: FakeCluster['runs'][number] = {};
        c.runs[i] = run;
        const step = c.steps[i]!;
        runStep({ name: step.name, args: step.args }).then(
          (r) => Object.assign(run, { endMs: Math.max(now(), start + t), exitCode: r.exitCode, ...(r.stderr !== undefined ? { stderr: r.stderr } : {}) }),
          (error: Error) => Object.assign(run, { endMs: Math.max(now(), start + t), exitCode: 1, stderr: String(error.stack ?? error) }),
        );
      }
      const run = c.runs[i];
      ends.push(run?.endMs ?? Number.POSITIVE_INFINITY);
      if (!fail && run?.exitCode !== undefined && run.exitCode !== 0) fail = { index: i, message: `Step failed with exitCode ${run.exitCode}.`, ...(run.stderr !== undefined ? { stderr: run.stderr } : {}) };
      if (run?.endMs === undefined || fail) {
        for (let j = i + 1; j < c.steps.length; j++) {
          starts.push(ends[i]!);
          ends.push(ends[i]!);
        }
        break;
      }
    }
    const lastStep = fail ? Math.min(fail.index, c.steps.length - 1) : c.steps.length - 1;
    const stepsEnd = c.steps.length === 0 ? stepsStart : ends[lastStep]!;
    // A user termination cuts the walk short where it stands.
    const stop = c.terminatedAtMs;
    const endMs = stop !== undefined ? Math.min(stop, stepsEnd) : stepsEnd;
    const steps = c.steps.map((s, i) => {
      const start = starts[i]!;
      const end = ends[i]!;
      let state = 'PENDING';
      let failure: Record<string, string> | undefined;
      if (i > lastStep || (stop !== undefined && start >= stop)) state = at >= endMs ? 'CANCELLED' : 'PENDING';
      else if (stop !== undefined && stop < end && at >= stop) state = 'CANCELLED';
      else if (at >= end) {
        if (fail && i === fail.index) {
          state = 'FAILED';
          failure = {
            Reason: fail.reason ?? 'Unknown Error.',
            Message: fail.message ?? 'Step failed with exitCode 1.',
            LogFile: `${c.logUri}${c.id}/steps/${s.id}/stderr.gz`,
          };
        } else state = 'COMPLETED';
      } else if (at >= start) state = 'RUNNING';
      return {
        Id: s.id,
        Name: s.name,
        Config: { Jar: 'command-runner.jar', Args: s.args, Properties: {} },
        ActionOnFailure: s.actionOnFailure,
        Status: {
          State: state,
          StateChangeReason: {},
          ...(failure ? { FailureDetails: failure } : {}),
          Timeline: {
            CreationDateTime: seconds(c.createdMs),
            ...(at >= start && state !== 'PENDING' && !(state === 'CANCELLED' && start >= endMs) ? { StartDateTime: seconds(start) } : {}),
            ...(state === 'COMPLETED' || state === 'FAILED' ? { EndDateTime: seconds(end) } : {}),
          },
        },
      };
    });
    let State: string;
    let reason: { Code?: string; Message?: string } = {};
    const failed = steps.some((s) => s.Status.State === 'FAILED');
    if (elapsed < t && stop === undefined) State = 'STARTING';
    else if (elapsed < 2 * t && stop === undefined) State = 'BOOTSTRAPPING';
    else if (at < endMs) State = 'RUNNING';
    else if (at < endMs + t) {
      State = 'TERMINATING';
      reason = stop !== undefined && stop < stepsEnd ? { Code: 'USER_REQUEST', Message: 'Terminated by user request' } : failed ? { Code: 'STEP_FAILURE', Message: 'Shut down as step failed' } : { Code: 'ALL_STEPS_COMPLETED', Message: 'Steps completed' };
    } else if (stop !== undefined && stop < stepsEnd) {
      State = 'TERMINATED';
      reason = { Code: 'USER_REQUEST', Message: 'Terminated by user request' };
    } else if (failed) {
      State = 'TERMINATED_WITH_ERRORS';
      reason = { Code: 'STEP_FAILURE', Message: 'Shut down as step failed' };
    } else {
      State = 'TERMINATED';
      reason = { Code: 'ALL_STEPS_COMPLETED', Message: 'Steps completed' };
    }
    if (failed && fail && !c.logWritten && c.logUri && options.putLog) {
      c.logWritten = true;
      const step = c.steps[fail.index]!;
      await options.putLog(`${c.logUri}${c.id}/steps/${step.id}/stderr.gz`, true, fail.stderr ?? 'Traceback (most recent call last):\nValueError: step failed\n');
    }
    const ended = State === 'TERMINATED' || State === 'TERMINATED_WITH_ERRORS';
    const running = Math.max(0, Math.min(at, endMs + t) - (c.createdMs + t));
    return {
      status: {
        State,
        StateChangeReason: reason,
        Timeline: {
          CreationDateTime: seconds(c.createdMs),
          ...(elapsed >= 2 * t ? { ReadyDateTime: seconds(c.createdMs + 2 * t) } : {}),
          ...(ended ? { EndDateTime: seconds(endMs + t) } : {}),
        },
      },
      steps,
      // 3 nodes of 8 normalised units each, per tick as if it were an hour.
      instanceHours: Math.ceil(running / t) * 24,
    };
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (d: Buffer) => (data += d.toString()));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const reply = (status: number, value: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomBytes(8).toString('hex') });
        res.end(JSON.stringify(value));
      };
      if (req.method !== 'POST' || !target.startsWith('ElasticMapReduce.')) return reply(400, { __type: 'UnknownOperationException', message: `not an EMR call: ${target}` });
      const operation = target.slice('ElasticMapReduce.'.length);
      let body: Record<string, unknown>;
      try {
        body = data ? (JSON.parse(data) as Record<string, unknown>) : {};
      } catch {
        return reply(400, { __type: 'SerializationException', message: 'body is not JSON' });
      }
      requests.push({ operation, body });
      handle(operation, body).then(
        (value) => reply(200, value),
        (error: Error & { type?: string }) => reply(400, { __type: error.type ?? 'InternalServerError', message: error.message }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return Object.assign(fake, {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
