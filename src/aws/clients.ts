import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EMRClient } from '@aws-sdk/client-emr';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * The one AWS client factory. Honours region, credentials (the SDK's default chain),
 * an explicit endpoint (--endpoint-url / config aws.endpointUrl) and the standard
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables, so tests and operators can point
 * the toolkit at a local emulator (moto_server) with no code change.
 */
export interface AwsOptions {
  region?: string;
  /** Overrides every service's endpoint. */
  endpointUrl?: string;
  maxAttempts?: number;
  env?: NodeJS.ProcessEnv;
}

type Service = 's3' | 'kinesis' | 'emr' | 'cloudwatch_logs';

// The pinned SDK prints a warning about its future Node 22 requirement on every command under
// Node 20, which we support; the SDK versions are pinned in the lock file, so it is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** The endpoint for a service: explicit option, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL. */
export function endpointFor(service: Service, options: AwsOptions = {}): string | undefined {
  const env = options.env ?? process.env;
  const explicit = options.endpointUrl?.trim();
  if (explicit) return explicit;
  return env[`AWS_ENDPOINT_URL_${service.toUpperCase()}`] || env.AWS_ENDPOINT_URL || undefined;
}

function common(service: Service, options: AwsOptions) {
  const env = options.env ?? process.env;
  const endpoint = endpointFor(service, options);
  return {
    region: options.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    maxAttempts: options.maxAttempts ?? 5,
    ...(endpoint ? { endpoint } : {}),
    // Plain HTTP/1.1: emulators (moto) do not speak HTTP/2, which the Kinesis client would
    // otherwise prefer. Keep-alive sockets, bounded connection time.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000 }),
  };
}

export function s3Client(options: AwsOptions = {}): S3Client {
  // Path-style addressing whenever an endpoint is overridden: emulators have no bucket DNS.
  return new S3Client({ ...common('s3', options), forcePathStyle: endpointFor('s3', options) !== undefined });
}

export function kinesisClient(options: AwsOptions = {}): KinesisClient {
  return new KinesisClient(common('kinesis', options));
}

export function emrClient(options: AwsOptions = {}): EMRClient {
  return new EMRClient(common('emr', options));
}

export function logsClient(options: AwsOptions = {}): CloudWatchLogsClient {
  return new CloudWatchLogsClient(common('cloudwatch_logs', options));
}
