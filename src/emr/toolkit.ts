import type { JobStepSpec } from '../jobs/runner.ts';
import type { HourId } from '../lake/layout.ts';

/**
 * The toolkit on a cluster: steps that run `openevents` itself (the report is rendered by the
 * toolkit, in Node) on the primary node. The toolkit's npm pack tarball is staged in S3 by its
 * content hash (src/ec2/artifact.ts, as `ec2 launch` does) under `<codeUri>toolkit/`, and the
 * bootstrap action provisioning/emr/toolkit.sh installs Node.js 20 and that tarball, with a
 * wrapper at EMR_OPENEVENTS that takes the region from the instance's metadata.
 */

/** The toolkit's command on the primary node (written by provisioning/emr/toolkit.sh). */
export const EMR_OPENEVENTS = '/home/hadoop/openevents/bin/openevents';
/** The bootstrap action that installs it, relative to the code bundle. */
export const TOOLKIT_SCRIPT = 'provisioning/emr/toolkit.sh';

/** True when a step runs the toolkit (so the cluster needs it installed). */
export function runsToolkit(step: Pick<JobStepSpec, 'argv'>): boolean {
  return step.argv?.[0] === EMR_OPENEVENTS;
}

/** Where the report goes: the website bucket and prefix of `aws.report`. */
export interface ReportTarget {
  bucket: string;
  prefix: string;
}

/**
 * The report stage's steps for an hour: commit what the earlier steps wrote (the hour's ETL
 * results when `etl` ran, and finished training runs: `emr collect`), then build the report from
 * the lake and publish it — each `openevents` on the primary node through command-runner.jar.
 */
export function reportSteps(lake: string, hour: HourId, target: ReportTarget, options: { etl: boolean }): JobStepSpec[] {
  const lakeArg = ['--lake', lake.replace(/\/$/, '')];
  const step = (what: string, args: string[]): JobStepSpec => ({ label: `report ${hour} ${what}`, hour, argv: [EMR_OPENEVENTS, ...args] });
  return [
    step('commit', ['emr', 'collect', ...(options.etl ? ['--hour', hour] : []), ...lakeArg]),
    step('build', ['report', 'build', ...lakeArg]),
    step('publish', ['report', 'publish', ...lakeArg, '--bucket', target.bucket, '--prefix', target.prefix]),
  ];
}
