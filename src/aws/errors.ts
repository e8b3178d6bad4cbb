import { UserError, errorMessage } from '../errors.ts';
import { redactText, redactUrl } from '../redact.ts';

/**
 * The one mapping from AWS SDK errors to domain errors. Failures a user can fix — no
 * credentials, an expired or rejected token, access denied, a bucket or stream that does not
 * exist, an endpoint that cannot be reached, the wrong region — become an `AwsUserError`
 * (a UserError: one line naming the resource, a hint, exit 1, the SDK error kept as `cause`).
 * Everything else (throttling, 5xx, a missing object key, a bug) passes through unchanged.
 *
 * Every client from the factory (aws/clients.ts) applies it as middleware, so callers catch
 * typed errors only for data-level answers (NoSuchKey, NoSuchWebsiteConfiguration, …) and use
 * `awsErrorKind(e)` / `isAwsNotFound(e)` where "does not exist" is an answer, not a failure.
 */
export type AwsErrorKind =
  | 'no-credentials'
  | 'expired-credentials'
  | 'bad-credentials'
  | 'access-denied'
  | 'not-found'
  | 'unreachable'
  | 'wrong-region'
  | 'invalid-name'
  | 'throttled'
  | 'other';

/** Where a call went: what the mapping needs to name the resource and give a hint. */
export interface AwsCallSite {
  /** The factory's service name: 's3', 'kinesis', 'firehose', 'cloudwatch_logs', 'emr', 'ec2', 'iam', 'sts'. */
  service: string;
  /** The SDK operation, e.g. 'ListObjectsV2'. */
  operation: string;
  /** The command's input (Bucket, Key, StreamName, logGroupName, …). */
  input?: Record<string, unknown>;
  region?: string;
  /** The endpoint override in force, if any. */
  endpoint?: string;
}

/** A user-fixable AWS failure. `cause` is the SDK error. */
export class AwsUserError extends UserError {
  readonly kind: AwsErrorKind;
  readonly service: string;
  readonly operation: string;
  /** The resource as shown to the user, e.g. 's3://lake/raw/…' or 'Kinesis stream "events"'. */
  readonly resource: string | undefined;

  constructor(message: string, site: AwsCallSite, kind: AwsErrorKind, options: { hint?: string; cause?: unknown; resource?: string }) {
    super(message, { ...(options.hint ? { hint: options.hint } : {}), cause: options.cause });
    this.name = 'AwsUserError';
    this.kind = kind;
    this.service = site.service;
    this.operation = site.operation;
    this.resource = options.resource;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const NO_CREDENTIALS = new Set(['CredentialsProviderError', 'ProviderError', 'TokenProviderError']);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired', 'InvalidGrantException']);
const BAD_CREDENTIALS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'IncompleteSignature',
  'InvalidToken',
  'AuthFailure',
  'MissingAuthenticationToken',
]);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'AllAccessDisabled', 'Forbidden', 'UnauthorizedOperation', 'AccountProblem', 'NotAuthorized']);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);
const WRONG_REGION = new Set(['PermanentRedirect', 'IllegalLocationConstraintException', 'AuthorizationHeaderMalformed', 'InvalidRegion']);
// "Does not exist" answers that are data (a key, a configuration) rather than a missing resource.
const DATA_NOT_FOUND = new Set([
  'NoSuchKey',
  'NoSuchVersion',
  'NoSuchUpload',
  'NoSuchWebsiteConfiguration',
  'NoSuchBucketPolicy',
  'NoSuchPublicAccessBlockConfiguration',
  'NoSuchLifecycleConfiguration',
  'NoSuchTagSet',
  'NoSuchCORSConfiguration',
  'ServerSideEncryptionConfigurationNotFoundError',
  'OwnershipControlsNotFoundError',
]);

/** What kind of failure an error is: an SDK error, a network error, or an `AwsUserError` (its kind). */
export function awsErrorKind(error: unknown): AwsErrorKind {
  if (error instanceof AwsUserError) return error.kind;
  const e = error as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; errors?: unknown[] } | null;
  if (!e || typeof e !== 'object') return 'other';
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const status = e.$metadata?.httpStatusCode;
  const message = typeof e.message === 'string' ? e.message : '';
  if (EXPIRED.has(name) || EXPIRED.has(code) || (NO_CREDENTIALS.has(name) && /expired/i.test(message))) return 'expired-credentials';
  if (NO_CREDENTIALS.has(name) || /could not load credentials|credential is missing|Unable to find (?:a )?credential/i.test(message)) return 'no-credentials';
  if (BAD_CREDENTIALS.has(name) || BAD_CREDENTIALS.has(code)) return 'bad-credentials';
  if (WRONG_REGION.has(name) || WRONG_REGION.has(code) || status === 301 || /Invalid region in client config/i.test(message)) return 'wrong-region';
  if (ACCESS_DENIED.has(name) || ACCESS_DENIED.has(code) || status === 403) return 'access-denied';
  if (THROTTLED.has(name) || THROTTLED.has(code) || status === 429 || status === 503) return 'throttled';
  if (DATA_NOT_FOUND.has(name)) return 'other';
  if (name === 'InvalidBucketName') return 'invalid-name';
  if (name === 'NoSuchBucket' || name === 'ResourceNotFoundException' || name === 'NoSuchEntity' || name === 'NoSuchEntityException' || name === 'NotFound' || status === 404)
    return 'not-found';
  if (NETWORK_CODES.has(code) || NETWORK_CODES.has(name) || name === 'TimeoutError' || (Array.isArray(e.errors) && e.errors.some((x) => NETWORK_CODES.has((x as { code?: string })?.code ?? ''))))
    return 'unreachable';
  return 'other';
}

/** True when the error says the resource (bucket, stream, log group, role…) does not exist. */
export function isAwsNotFound(error: unknown): boolean {
  return awsErrorKind(error) === 'not-found';
}

/** The resource a call was about, as shown to the user. */
export function describeResource(site: AwsCallSite): string {
  const i = site.input ?? {};
  const str = (k: string): string | undefined => (typeof i[k] === 'string' && i[k] !== '' ? (i[k] as string) : undefined);
  switch (site.service) {
    case 's3': {
      const bucket = str('Bucket');
      if (!bucket) return 'S3';
      const key = str('Key') ?? str('Prefix');
      return `s3://${bucket}/${key ?? ''}`;
    }
    case 'kinesis': {
      const name = str('StreamName') ?? str('StreamARN')?.split('/').pop();
      return name ? `Kinesis stream "${name}"` : 'Kinesis';
    }
    case 'firehose': {
      const name = str('DeliveryStreamName');
      return name ? `Firehose delivery stream "${name}"` : 'Firehose';
    }
    case 'cloudwatch_logs': {
      const group = str('logGroupName') ?? str('logGroupIdentifier') ?? str('logGroupNamePrefix');
      const stream = str('logStreamName');
      return group ? `log group "${group}"${stream ? ` (stream "${stream}")` : ''}` : 'CloudWatch Logs';
    }
    case 'emr': {
      const id = str('ClusterId') ?? str('JobFlowId');
      return id ? `EMR cluster ${id}` : 'EMR';
    }
    case 'iam': {
      const name = str('RoleName') ?? str('InstanceProfileName') ?? str('PolicyArn') ?? str('UserName');
      return name ? `IAM "${name}"` : 'IAM';
    }
    case 'ec2': {
      const ids = Array.isArray(i.InstanceIds) ? (i.InstanceIds as string[]).join(', ') : undefined;
      return ids ? `EC2 instance ${ids}` : 'EC2';
    }
    default:
      return site.service.toUpperCase();
  }
}

/** The IAM action a call needs, for the access-denied hint ('s3:ListBucket' for ListObjectsV2). */
export function iamAction(service: string, operation: string): string {
  const prefix: Record<string, string> = { cloudwatch_logs: 'logs', emr: 'elasticmapreduce' };
  const s3: Record<string, string> = {
    ListObjectsV2: 'ListBucket',
    ListObjects: 'ListBucket',
    HeadBucket: 'ListBucket',
    HeadObject: 'GetObject',
    CreateMultipartUpload: 'PutObject',
    UploadPart: 'PutObject',
    CompleteMultipartUpload: 'PutObject',
    AbortMultipartUpload: 'AbortMultipartUpload',
    DeleteObjects: 'DeleteObject',
    ListObjectVersions: 'ListBucketVersions',
    GetPublicAccessBlock: 'GetBucketPublicAccessBlock',
    PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
    DeletePublicAccessBlock: 'PutBucketPublicAccessBlock',
    DeleteBucketPolicy: 'DeleteBucketPolicy',
    GetBucketLocation: 'GetBucketLocation',
  };
  const action = service === 's3' ? (s3[operation] ?? operation) : operation;
  return `${prefix[service] ?? service}:${action}`;
}

const SERVICE_TITLE: Record<string, string> = {
  s3: 'S3',
  kinesis: 'Kinesis',
  firehose: 'Firehose',
  cloudwatch_logs: 'CloudWatch Logs',
  emr: 'EMR',
  ec2: 'EC2',
  iam: 'IAM',
  sts: 'STS',
};

/**
 * The `AwsUserError` for a failure the user can fix, or undefined (throttling, server errors,
 * data-level "not found", bugs: the caller rethrows those as they are).
 */
export function toAwsUserError(error: unknown, site: AwsCallSite): AwsUserError | undefined {
  if (error instanceof AwsUserError) return error;
  const kind = awsErrorKind(error);
  const resource = describeResource(site);
  const title = SERVICE_TITLE[site.service] ?? site.service;
  const region = site.region ?? 'the configured region';
  const where = site.endpoint ? redactUrl(site.endpoint) : `the ${title} endpoint of ${region}`;
  const detail = oneLine(errorMessage(error));
  const make = (message: string, hint: string): AwsUserError => new AwsUserError(message, site, kind, { hint, cause: error, resource });
  switch (kind) {
    case 'no-credentials':
      return make(
        `no AWS credentials were found for ${site.operation} on ${resource}`,
        'set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or task role is available',
      );
    case 'expired-credentials':
      return make(`the AWS credentials have expired (${site.operation} on ${resource})`, 'refresh them (aws sso login, or new temporary credentials) and run again');
    case 'bad-credentials':
      return make(
        `AWS rejected the credentials for ${site.operation} on ${resource} (${errorName(error)})`,
        `check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) and that they belong to ${where}`,
      );
    case 'access-denied':
      return make(`access denied: ${site.operation} on ${resource}`, `the credentials need ${iamAction(site.service, site.operation)} on it (or an SCP, bucket policy or Block Public Access setting refuses it)`);
    case 'not-found': {
      // A data-level 404 (HeadObject of a missing key) is an answer, not a missing resource.
      if (site.service === 's3' && site.operation !== 'HeadBucket' && errorName(error) !== 'NoSuchBucket') return undefined;
      const what = notFoundResource(error, site, resource);
      return make(`${what} does not exist${site.service === 's3' ? '' : ` in ${region}`}`, `create it with \`openevents infra up\`, or check the name${site.service === 's3' ? '' : ' and aws.region (OPENEVENTS_AWS_REGION)'}`);
    }
    case 'invalid-name':
      return make(`${resource} is not a valid name: ${detail}`, 'bucket names are 3-63 lowercase letters, digits, dots and hyphens');
    case 'unreachable':
      return make(
        `cannot reach ${title} at ${where} (${networkCode(error)}) for ${site.operation} on ${resource}`,
        'check the network, aws.endpointUrl / AWS_ENDPOINT_URL and aws.region',
      );
    case 'wrong-region': {
      const actual = bucketRegion(error);
      return make(
        actual ? `${resource} is in region ${actual}, not ${region}` : `${resource} is not in region ${region}: ${detail}`,
        actual ? `set aws.region (OPENEVENTS_AWS_REGION) to ${actual}` : 'set aws.region (OPENEVENTS_AWS_REGION) to the region of the resource',
      );
    }
    default:
      return undefined;
  }
}

/** Middleware for every client of the factory: user-fixable failures become AwsUserErrors. */
export function userErrorMiddleware(service: string, where: { region: string; endpoint?: string | undefined }) {
  return <Output>(next: (args: { input: unknown }) => Promise<Output>, context: { commandName?: string }) =>
    async (args: { input: unknown }): Promise<Output> => {
      try {
        return await next(args);
      } catch (error) {
        const site: AwsCallSite = {
          service,
          operation: (context.commandName ?? 'call').replace(/Command$/, ''),
          input: (args.input ?? {}) as Record<string, unknown>,
          region: where.region,
          ...(where.endpoint ? { endpoint: where.endpoint } : {}),
        };
        throw toAwsUserError(error, site) ?? error;
      }
    };
}

function notFoundResource(error: unknown, site: AwsCallSite, resource: string): string {
  if (site.service === 's3') {
    const bucket = (site.input?.Bucket as string | undefined) ?? (error as { BucketName?: string }).BucketName;
    return bucket ? `the bucket "${bucket}"` : resource;
  }
  if (site.service === 'cloudwatch_logs' && /log stream/i.test(errorMessage(error)) && site.input?.logStreamName) {
    return `log stream "${String(site.input.logStreamName)}" of log group "${String(site.input.logGroupName ?? '')}"`;
  }
  if (site.service === 'cloudwatch_logs') {
    const group = site.input?.logGroupName ?? site.input?.logGroupIdentifier;
    if (group) return `log group "${String(group)}"`;
  }
  return `the ${resource}`;
}

function bucketRegion(error: unknown): string | undefined {
  const e = error as { $response?: { headers?: Record<string, string> }; Region?: string; message?: string };
  const header = e.$response?.headers?.['x-amz-bucket-region'];
  if (header) return header;
  if (typeof e.Region === 'string') return e.Region;
  const m = /expecting '([a-z0-9-]+)'/.exec(e.message ?? '');
  return m?.[1];
}

function networkCode(error: unknown): string {
  const e = error as { code?: string; name?: string; errors?: Array<{ code?: string }> };
  return e.code ?? e.errors?.find((x) => x.code)?.code ?? e.name ?? 'network error';
}

function errorName(error: unknown): string {
  const name = (error as { name?: unknown })?.name;
  return typeof name === 'string' ? name : 'error';
}

function oneLine(text: string): string {
  return redactText(text).replace(/\s+/g, ' ').trim().slice(0, 300);
}
