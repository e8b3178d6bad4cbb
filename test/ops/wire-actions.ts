import type { ProxiedRequest } from '../helpers/aws-proxy.ts';
import type { NeededPermission } from './policy.ts';

/**
 * The IAM permissions a recorded AWS request needs, read from the wire (what test/helpers/aws-proxy.ts
 * saw): the service the proxy read from the SigV4 credential scope, the operation from the JSON
 * target, the query protocol's Action or S3's method, path and query (finer than the proxy's: S3's
 * sub-resources map to different actions); the resource from the request's own
 * names (bucket and key, stream, log group and stream, instance ids, role names). The mapping of
 * operations to actions follows AWS's Service Authorization Reference.
 */
export interface WireContext {
  region: string;
  account: string;
  /** The stream a Kinesis call that names none (GetRecords: an iterator; a ListShards page: a token) belongs to. */
  stream?: string;
  /** The tags of an instance id (for aws:ResourceTag conditions on instance calls). */
  instanceTags?: (id: string) => Record<string, string> | undefined;
}

/** One decoded request: its operation (e.g. "kinesis PutRecords") and the permissions it needs. */
export interface WireCall {
  service: string;
  operation: string;
  needs: NeededPermission[];
}

/** JSON protocols: X-Amz-Target prefixes → IAM prefix. */
const SIGNING_TO_PREFIX: Record<string, string> = { logs: 'logs', kinesis: 'kinesis', firehose: 'firehose', elasticmapreduce: 'elasticmapreduce', ssm: 'ssm' };

/** Decodes one request; throws on a request it cannot read (so a new kind of call is never silently unchecked). */
export function decodeRequest(req: ProxiedRequest, ctx: WireContext): WireCall {
  const { service } = req;
  if (service === 's3') return s3Call(req);
  if (req.target) return jsonCall(service, req, ctx);
  return queryCall(service, req, ctx);
}

function arn(ctx: WireContext, service: string, rest: string, { region = true, account = true } = {}): string {
  return `arn:aws:${service}:${region ? ctx.region : ''}:${account ? ctx.account : ''}:${rest}`;
}

function jsonCall(service: string, req: ProxiedRequest, ctx: WireContext): WireCall {
  const prefix = SIGNING_TO_PREFIX[service];
  if (!prefix) throw new Error(`no IAM prefix known for the JSON service ${service}`);
  const operation = req.target!.slice(req.target!.lastIndexOf('.') + 1);
  const body = (req.body.length > 0 ? JSON.parse(req.body.toString('utf8')) : {}) as Record<string, unknown>;
  const str = (key: string): string | undefined => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
  const action = `${prefix}:${operation}`;
  let resources: string[];
  switch (prefix) {
    case 'kinesis': {
      const name = str('StreamName') ?? str('StreamARN')?.split('/').pop();
      // GetRecords names only an iterator, a ListShards page only a token: IAM checks them on the stream they came from.
      resources = [arn(ctx, 'kinesis', `stream/${name ?? ctx.stream ?? '(unknown)'}`)];
      break;
    }
    case 'firehose':
      resources = [arn(ctx, 'firehose', `deliverystream/${str('DeliveryStreamName')}`)];
      break;
    case 'logs': {
      const group = str('logGroupName') ?? str('logGroupIdentifier')?.replace(/^arn:.*:log-group:/, '').replace(/:\*$/, '');
      if (operation === 'DescribeLogGroups') resources = [arn(ctx, 'logs', `log-group:${str('logGroupNamePrefix') ?? ''}*`)];
      else if (str('logStreamName')) resources = [arn(ctx, 'logs', `log-group:${group}:log-stream:${str('logStreamName')}`)];
      else resources = [arn(ctx, 'logs', `log-group:${group}`)];
      break;
    }
    case 'elasticmapreduce':
      resources = str('ClusterId') ? [arn(ctx, 'elasticmapreduce', `cluster/${str('ClusterId')}`)] : ['*'];
      break;
    default:
      resources = ['*'];
  }
  return { service: prefix, operation, needs: resources.map((resource) => ({ action, resource })) };
}

function queryCall(service: string, req: ProxiedRequest, ctx: WireContext): WireCall {
  const form = new URLSearchParams(req.body.toString('utf8'));
  const operation = form.get('Action');
  if (!operation) throw new Error(`a ${service} request without an Action: ${req.url}`);
  const indexed = (prefix: string): string[] => [...form.entries()].filter(([k]) => new RegExp(`^${prefix}\\.\\d+$`).test(k)).map(([, v]) => v);
  const needs: NeededPermission[] = [];
  if (service === 'sts') {
    // GetCallerIdentity needs no permission; any other STS call does.
    if (operation !== 'GetCallerIdentity') needs.push({ action: `sts:${operation}`, resource: '*' });
  } else if (service === 'iam') {
    const role = form.get('RoleName');
    const profile = form.get('InstanceProfileName');
    const resource = profile && !role ? `arn:aws:iam::${ctx.account}:instance-profile/${profile}` : `arn:aws:iam::${ctx.account}:role/${role ?? '*'}`;
    needs.push({ action: `iam:${operation}`, resource });
  } else if (service === 'ec2') {
    needs.push(...ec2Needs(operation, form, indexed, ctx));
  } else {
    throw new Error(`no decoding known for the query service ${service}`);
  }
  return { service, operation, needs };
}

function ec2Needs(operation: string, form: URLSearchParams, indexed: (prefix: string) => string[], ctx: WireContext): NeededPermission[] {
  const action = `ec2:${operation}`;
  if (operation.startsWith('Describe')) return [{ action, resource: '*' }];
  if (operation === 'RunInstances') {
    // The tags the request puts on what it creates: aws:RequestTag/<key>
    const requestTags: Record<string, string> = {};
    for (const [k, v] of form.entries()) {
      const m = /^TagSpecification\.\d+\.Tag\.(\d+)\.Key$/.exec(k);
      if (m) requestTags[`aws:RequestTag/${v}`] = form.get(k.replace(/Key$/, 'Value')) ?? '';
    }
    const created = { ...requestTags, 'ec2:CreateAction': 'RunInstances' };
    const needs: NeededPermission[] = [
      { action, resource: arn(ctx, 'ec2', 'instance/*'), context: created },
      { action, resource: arn(ctx, 'ec2', 'volume/*'), context: created },
      { action, resource: arn(ctx, 'ec2', `image/${form.get('ImageId')}`, { account: false }) },
      { action, resource: arn(ctx, 'ec2', 'network-interface/*') },
    ];
    const subnet = form.get('SubnetId');
    if (subnet) needs.push({ action, resource: arn(ctx, 'ec2', `subnet/${subnet}`) });
    for (const group of indexed('SecurityGroupId')) needs.push({ action, resource: arn(ctx, 'ec2', `security-group/${group}`) });
    const key = form.get('KeyName');
    if (key) needs.push({ action, resource: arn(ctx, 'ec2', `key-pair/${key}`) });
    if (form.has('TagSpecification.1.ResourceType')) {
      needs.push({ action: 'ec2:CreateTags', resource: arn(ctx, 'ec2', 'instance/*'), context: created });
      needs.push({ action: 'ec2:CreateTags', resource: arn(ctx, 'ec2', 'volume/*'), context: created });
    }
    // The instance profile's role is passed to EC2 (our profiles are named after their roles).
    const profile = form.get('IamInstanceProfile.Name');
    if (profile) needs.push({ action: 'iam:PassRole', resource: `arn:aws:iam::${ctx.account}:role/${profile}`, context: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    const image = form.get('ImageId') ?? '';
    if (image.startsWith('resolve:ssm:')) needs.push({ action: 'ssm:GetParameters', resource: arn(ctx, 'ssm', `parameter${image.slice('resolve:ssm:'.length)}`, { account: false }) });
    return needs;
  }
  const ids = [...indexed('InstanceId'), ...(form.get('InstanceId') ? [form.get('InstanceId')!] : [])];
  if (ids.length === 0) throw new Error(`an EC2 ${operation} without instance ids`);
  return ids.map((id) => {
    const tags = ctx.instanceTags?.(id) ?? {};
    const context = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v]));
    return { action, resource: arn(ctx, 'ec2', `instance/${id}`), context };
  });
}

/** S3's REST operations by method and sub-resource, and the IAM action each needs. */
function s3Call(req: ProxiedRequest): WireCall {
  const url = new URL(req.url, 'http://s3');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const q = url.searchParams;
  const bucketArn = `arn:aws:s3:::${bucket}`;
  const objectArn = `arn:aws:s3:::${bucket}/${key}`;
  const one = (operation: string, action: string, resource: string, context?: Record<string, string>): WireCall => ({
    service: 's3',
    operation,
    needs: [{ action, resource, ...(context ? { context } : {}) }],
  });
  if (!key) {
    const sub = ['policy', 'website', 'publicAccessBlock', 'location', 'versions', 'uploads', 'delete', 'versioning', 'encryption', 'tagging'].find((s) => q.has(s));
    const listContext = { 's3:prefix': q.get('prefix') ?? '' };
    switch (`${req.method} ${sub ?? ''}`) {
      case 'GET ':
        return one(q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects', 's3:ListBucket', bucketArn, listContext);
      case 'HEAD ':
        return one('HeadBucket', 's3:ListBucket', bucketArn);
      case 'GET versions':
        return one('ListObjectVersions', 's3:ListBucketVersions', bucketArn, listContext);
      case 'GET uploads':
        return one('ListMultipartUploads', 's3:ListBucketMultipartUploads', bucketArn);
      case 'GET location':
        return one('GetBucketLocation', 's3:GetBucketLocation', bucketArn);
      case 'PUT ':
        return one('CreateBucket', 's3:CreateBucket', bucketArn);
      case 'DELETE ':
        return one('DeleteBucket', 's3:DeleteBucket', bucketArn);
      case 'POST delete': {
        const keys = [...req.body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
        const versioned = /<VersionId>/.test(req.body.toString('utf8'));
        return { service: 's3', operation: 'DeleteObjects', needs: keys.map((k) => ({ action: versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: `${bucketArn}/${k}` })) };
      }
      default: {
        if (!sub) break;
        const name = sub === 'publicAccessBlock' ? 'PublicAccessBlock' : sub[0]!.toUpperCase() + sub.slice(1);
        const verb = req.method === 'GET' ? 'Get' : req.method === 'PUT' ? 'Put' : req.method === 'DELETE' ? 'Delete' : undefined;
        if (verb) return one(`${verb}Bucket${name}`, `s3:${verb}Bucket${name}`, bucketArn);
      }
    }
    throw new Error(`an S3 bucket request not known here: ${req.method} ${req.url}`);
  }
  if (q.has('uploadId')) {
    if (req.method === 'PUT') return one('UploadPart', 's3:PutObject', objectArn);
    if (req.method === 'POST') return one('CompleteMultipartUpload', 's3:PutObject', objectArn);
    if (req.method === 'DELETE') return one('AbortMultipartUpload', 's3:AbortMultipartUpload', objectArn);
    if (req.method === 'GET') return one('ListParts', 's3:ListMultipartUploadParts', objectArn);
  }
  if (req.method === 'POST' && q.has('uploads')) return one('CreateMultipartUpload', 's3:PutObject', objectArn);
  if (req.method === 'GET' || req.method === 'HEAD') return one(req.method === 'GET' ? 'GetObject' : 'HeadObject', 's3:GetObject', objectArn);
  if (req.method === 'DELETE') return one('DeleteObject', q.has('versionId') ? 's3:DeleteObjectVersion' : 's3:DeleteObject', objectArn);
  if (req.method === 'PUT') {
    const source = req.headers['x-amz-copy-source'];
    if (typeof source === 'string') {
      return {
        service: 's3',
        operation: 'CopyObject',
        needs: [
          { action: 's3:GetObject', resource: `arn:aws:s3:::${decodeURIComponent(source.replace(/^\//, '').split('?')[0]!)}` },
          { action: 's3:PutObject', resource: objectArn },
        ],
      };
    }
    return one('PutObject', 's3:PutObject', objectArn);
  }
  throw new Error(`an S3 object request not known here: ${req.method} ${req.url}`);
}
