import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The AWS calls a component can make, read from its source: every module reachable from its
 * entry points (static and dynamic relative imports), and in each, the SDK commands it builds
 * (`new XxxCommand(`), the paginators (`paginateXxx`) and the waiters (`waitUntilXxx`) it uses, of the
 * `@aws-sdk/client-*` packages it imports. What an IAM policy must allow is derived from this
 * list (see iamActions), not written by hand.
 */
export interface SdkCall {
  /** The client package's service, as in @aws-sdk/client-<service>. */
  service: string;
  /** The API operation, e.g. PutRecords. */
  operation: string;
  /** Where it is called. */
  file: string;
}

const IMPORT = /(?:import|export)\s+(?!type\s)(?:[\w*{}\s,]+\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const SDK_IMPORT = /import\s+(?!type\s)\{([^}]*)\}\s+from\s+['"]@aws-sdk\/client-([\w-]+)['"]/g;

/** Every source file reachable from the entries (relative imports only; not `import type`/`export type`, which are erased: they run nothing). */
export function reachableFiles(root: string, entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = entries.map((e) => path.resolve(root, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file) || !existsSync(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      const target = path.resolve(path.dirname(file), spec);
      for (const candidate of [target, target.replace(/\.js$/, '.ts'), `${target}.ts`, `${target}.tsx`]) {
        if (existsSync(candidate) && /\.tsx?$/.test(candidate)) {
          queue.push(candidate);
          break;
        }
      }
    }
  }
  return [...seen].sort();
}

/** The SDK calls made in these files. */
export function sdkCalls(root: string, files: readonly string[]): SdkCall[] {
  const calls: SdkCall[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const imported = new Map<string, string>();
    for (const m of text.matchAll(SDK_IMPORT)) {
      for (const name of m[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]!)) if (name) imported.set(name, m[2]!);
    }
    const rel = path.relative(root, file);
    for (const [name, service] of imported) {
      // Used: named anywhere but in its import (a waiter may be picked from a table, not called in place).
      const uses = new RegExp(`\\b${name}\\b`).test(text.replace(new RegExp(`import[^;]*\\b${name}\\b[^;]*;`, 'g'), ''));
      if (!uses) continue;
      let m: RegExpExecArray | null;
      if ((m = /^(\w+)Command$/.exec(name)) && new RegExp(`new\\s+${name}\\s*\\(`).test(text)) calls.push({ service, operation: m[1]!, file: rel });
      else if ((m = /^paginate(\w+)$/.exec(name))) calls.push({ service, operation: m[1]!, file: rel });
      else if ((m = /^waitUntil(\w+)$/.exec(name))) calls.push({ service, operation: WAITERS[`${service}:${m[1]}`] ?? `waiter ${m[1]}`, file: rel });
    }
  }
  return calls;
}

/** What each waiter polls. */
const WAITERS: Record<string, string> = {
  'ec2:InstanceRunning': 'DescribeInstances',
  'ec2:InstanceStopped': 'DescribeInstances',
  'ec2:InstanceTerminated': 'DescribeInstances',
  'emr:ClusterRunning': 'DescribeCluster',
  'emr:ClusterTerminated': 'DescribeCluster',
  'emr:StepComplete': 'DescribeStep',
};

/** The IAM prefix of each client package. */
const PREFIX: Record<string, string> = {
  s3: 's3',
  kinesis: 'kinesis',
  firehose: 'firehose',
  'cloudwatch-logs': 'logs',
  ec2: 'ec2',
  iam: 'iam',
  sts: 'sts',
  emr: 'elasticmapreduce',
  ssm: 'ssm',
};

/**
 * The IAM actions an operation needs, where they are not `<prefix>:<Operation>` (S3's names
 * differ; some calls need a second permission: passing a role, resolving an AMI parameter).
 * An empty list: no permission is needed (sts:GetCallerIdentity).
 */
const ACTIONS: Record<string, string[]> = {
  's3:ListObjectsV2': ['s3:ListBucket'],
  's3:HeadObject': ['s3:GetObject'],
  's3:HeadBucket': ['s3:ListBucket'],
  's3:CreateMultipartUpload': ['s3:PutObject'],
  's3:UploadPart': ['s3:PutObject'],
  's3:CompleteMultipartUpload': ['s3:PutObject'],
  's3:CopyObject': ['s3:GetObject', 's3:PutObject'],
  's3:ListObjectVersions': ['s3:ListBucketVersions'],
  's3:ListMultipartUploads': ['s3:ListBucketMultipartUploads'],
  's3:DeleteObjects': ['s3:DeleteObject', 's3:DeleteObjectVersion'],
  's3:GetPublicAccessBlock': ['s3:GetBucketPublicAccessBlock'],
  's3:PutPublicAccessBlock': ['s3:PutBucketPublicAccessBlock'],
  's3:ListBuckets': ['s3:ListAllMyBuckets'],
  'sts:GetCallerIdentity': [],
  // The instance profile's role is passed to EC2; the default image is a public SSM parameter.
  'ec2:RunInstances': ['ec2:RunInstances', 'ec2:CreateTags', 'iam:PassRole', 'ssm:GetParameters'],
  'emr:RunJobFlow': ['elasticmapreduce:RunJobFlow', 'elasticmapreduce:AddTags', 'iam:PassRole'],
  'firehose:CreateDeliveryStream': ['firehose:CreateDeliveryStream', 'iam:PassRole'],
  'firehose:UpdateDestination': ['firehose:UpdateDestination', 'iam:PassRole'],
};

/** The IAM actions a list of calls needs, sorted and unique. */
export function iamActions(calls: readonly SdkCall[]): string[] {
  const out = new Set<string>();
  for (const { service, operation } of calls) {
    const prefix = PREFIX[service];
    if (!prefix) throw new Error(`no IAM prefix known for @aws-sdk/client-${service}: add it to test/ops/sdk-calls.ts`);
    for (const action of ACTIONS[`${service}:${operation}`] ?? [`${prefix}:${operation}`]) out.add(action);
  }
  return [...out].sort();
}
