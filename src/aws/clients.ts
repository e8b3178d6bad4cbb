import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EMRClient } from '@aws-sdk/client-emr';
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { userErrorMiddleware } from './errors.ts';

/**
 * The one AWS client factory. Honours the region (config aws.region, then AWS_REGION,
 * AWS_DEFAULT_REGION; us-east-1 last), credentials (the SDK's default chain:
 * environment, AWS_PROFILE / shared files, SSO, web identity, container and instance roles), an
 * explicit endpoint (--endpoint-url / config aws.endpointUrl) and the standard AWS_ENDPOINT_URL
 * and AWS_ENDPOINT_URL_<SERVICE> variables, so tests and operators can point the toolkit at a
 * local emulator (moto_server) with no code change. Every client maps the failures a user can
 * fix to UserErrors naming the resource (see aws/errors.ts).
 */
export interface AwsOptions {
  region?: string;
  /** Overrides every service's endpoint. */
  endpointUrl?: string;
  /** Attempts per call, the SDK's standard retry strategy (default 5). */
  maxAttempts?: number;
  /** Per-request socket timeout (default 60 s). */
  requestTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The services the toolkit talks to, named as in AWS_ENDPOINT_URL_<SERVICE>. */
export type Service = 's3' | 'kinesis' | 'firehose' | 'emr' | 'cloudwatch_logs' | 'ec2' | 'iam' | 'sts';

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

/** The region clients use: the option, else AWS_REGION / AWS_DEFAULT_REGION, else us-east-1. */
export function regionFor(options: AwsOptions = {}): string {
  const env = options.env ?? process.env;
  return options.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
}

/** What every SDK v3 client has that the factory uses. */
interface SdkClient {
  middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string; priority: 'high' }): void };
  destroy(): void;
}

/** The client class of each service (types only: each package loads when first used). */
export interface ClientOf {
  s3: S3Client;
  kinesis: KinesisClient;
  firehose: FirehoseClient;
  emr: EMRClient;
  cloudwatch_logs: CloudWatchLogsClient;
  ec2: EC2Client;
  iam: IAMClient;
  sts: STSClient;
}

/** The configuration every client gets. */
export interface ClientConfig {
  region: string;
  maxAttempts: number;
  endpoint?: string;
  requestHandler: NodeHttpHandler;
  forcePathStyle?: boolean;
  responseChecksumValidation?: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
}

/**
 * Builds a client of `service` with the toolkit's settings: region, endpoint, retries, an
 * HTTP/1.1 handler with bounded timeouts, and the user-error mapping. The one place any AWS
 * client is made; pass the SDK's class (`awsClient('ec2', EC2Client)`), so a command loads
 * only the SDK packages it uses (client-ec2 alone takes 2 s and 130 MB to load).
 */
export function awsClient<S extends Service>(service: S, Client: new (config: ClientConfig) => ClientOf[S], options: AwsOptions = {}): ClientOf[S] {
  const endpoint = endpointFor(service, options);
  const region = regionFor(options);
  const client = new Client({
    region,
    maxAttempts: options.maxAttempts ?? 5,
    ...(endpoint ? { endpoint } : {}),
    // Plain HTTP/1.1: emulators (moto) do not speak HTTP/2, which the Kinesis client would
    // otherwise prefer. Keep-alive sockets, bounded connection time.
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: options.requestTimeoutMs ?? 60_000 }),
    // Path-style addressing whenever an endpoint is overridden: emulators have no bucket DNS.
    // Their checksums of multipart objects are also not S3's (moto returns the composite CRC without
    // its "-<parts>" suffix, which S3 adds and the SDK then skips), so responses are checked only
    // where the request asks; against AWS itself the SDK checks every download.
    ...(service === 's3' && endpoint !== undefined ? { forcePathStyle: true, responseChecksumValidation: 'WHEN_REQUIRED' as const } : service === 's3' ? { forcePathStyle: false } : {}),
  });
  (client as unknown as SdkClient).middlewareStack.add(userErrorMiddleware(service, { region, endpoint }) as never, {
    step: 'initialize',
    name: 'openeventsUserErrors',
    priority: 'high',
  });
  return client;
}

/** An S3 client (the lake's; loaded with this module). */
export function s3Client(options: AwsOptions = {}): S3Client {
  return awsClient('s3', S3Client, options);
}

const LOADERS: { [S in Service]: () => Promise<new (config: ClientConfig) => ClientOf[S]> } = {
  s3: async () => S3Client,
  kinesis: async () => (await import('@aws-sdk/client-kinesis')).KinesisClient,
  firehose: async () => (await import('@aws-sdk/client-firehose')).FirehoseClient,
  emr: async () => (await import('@aws-sdk/client-emr')).EMRClient,
  cloudwatch_logs: async () => (await import('@aws-sdk/client-cloudwatch-logs')).CloudWatchLogsClient,
  ec2: async () => (await import('@aws-sdk/client-ec2')).EC2Client,
  iam: async () => (await import('@aws-sdk/client-iam')).IAMClient,
  sts: async () => (await import('@aws-sdk/client-sts')).STSClient,
};

/**
 * One client per service for one set of options, built on first use and shared by everything
 * a command does (one connection pool per service); `destroy()` closes their sockets.
 */
export class AwsClients {
  private readonly built = new Map<Service, Promise<SdkClient>>();

  constructor(readonly options: AwsOptions = {}) {}

  /** The region the clients use. */
  get region(): string {
    return regionFor(this.options);
  }

  /** The endpoint override for a service, if any. */
  endpoint(service: Service): string | undefined {
    return endpointFor(service, this.options);
  }

  /** The shared client of a service (its SDK package loads on first use). */
  client<S extends Service>(service: S): Promise<ClientOf[S]> {
    let client = this.built.get(service);
    if (!client) {
      client = LOADERS[service]().then((Client) => awsClient(service, Client, this.options) as unknown as SdkClient);
      this.built.set(service, client);
    }
    return client as unknown as Promise<ClientOf[S]>;
  }

  /** Closes every client built so far. */
  async destroy(): Promise<void> {
    const clients = await Promise.allSettled(this.built.values());
    this.built.clear();
    for (const c of clients) if (c.status === 'fulfilled') c.value.destroy();
  }
}
