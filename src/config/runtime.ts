import path from 'node:path';
import type { AwsClients, AwsOptions } from '../aws/clients.ts';
import type { ObjectStore } from '../lake/store.ts';
import type { TelemetryReader, TelemetrySink } from '../telemetry/telemetry.ts';
import type { Config } from './schema.ts';

/**
 * The composition root: what a config builds. Every command (and the monitor) gets its lake,
 * its telemetry and its AWS clients here, so no caller asks which profile it is on:
 *
 * | | local profile | aws profile |
 * | --- | --- | --- |
 * | lake | the folder, or s3://… through the S3 client | the same |
 * | telemetry | JSON lines in `<lake>/_telemetry/` (an s3:// lake: `./.openevents/_telemetry/`) | CloudWatch Logs, group aws.logs.group |
 * | AWS clients | region aws.region, endpoint aws.endpointUrl / AWS_ENDPOINT_URL*, credentials by the SDK's chain | the same |
 *
 * Everything is built on first use (a command that never touches S3 never loads the SDK) and
 * once per runtime; `close()` flushes telemetry and closes the clients.
 */
export interface Runtime {
  readonly config: Config;
  /** The options every AWS client of this runtime is built with. */
  readonly awsOptions: AwsOptions;
  /** The AWS clients, one per service, built on first use. */
  aws(): Promise<AwsClients>;
  /**
   * The lake, opened once (the first call's options count); an s3:// lake's bucket is checked
   * first (exists, credentials work). `mustExist`: a read command's lake must already be there.
   */
  lake(options?: { mustExist?: boolean }): Promise<ObjectStore>;
  /** The profile's telemetry sink; `component` names this process's CloudWatch log stream. */
  telemetry(component?: string): Promise<TelemetrySink>;
  /** Reads back what the sinks write, on either profile (`openevents logs`, the monitor). */
  telemetryReader(): Promise<TelemetryReader>;
  /** Folder for this lake's local state when the lake is not a folder: `<cwd>/.openevents`; else the lake folder. */
  localStateDir(): Promise<string>;
  /** Ships what telemetry holds, closes the clients; returns warnings worth showing the user. */
  close(): Promise<string[]>;
}

export interface RuntimeOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  /** Told about trouble that must not stop the command (telemetry that cannot be shipped). */
  onWarning?: (message: string) => void;
  /** How hard the AWS clients try (the monitor polls: few attempts, short timeouts; the next poll is the retry). */
  retries?: Pick<AwsOptions, 'maxAttempts' | 'requestTimeoutMs'>;
}

/** The AWS client options of a config: region, endpoint, environment. */
export function awsOptionsOf(config: Config, env: NodeJS.ProcessEnv = process.env): AwsOptions {
  return {
    ...(config.aws.region ? { region: config.aws.region } : {}),
    ...(config.aws.endpointUrl ? { endpointUrl: config.aws.endpointUrl } : {}),
    env,
  };
}

/** Builds the runtime of a config. Nothing is opened or loaded until asked for. */
export function createRuntime(config: Config, options: RuntimeOptions = {}): Runtime {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  const awsOptions = { ...awsOptionsOf(config, env), ...options.retries };
  const aws = once(async () => new (await import('../aws/clients.ts')).AwsClients(awsOptions));

  let opened: Promise<ObjectStore> | undefined;
  const lake = (lakeOptions: { mustExist?: boolean } = {}): Promise<ObjectStore> => (opened ??= openConfigLake(lakeOptions));
  const openConfigLake = async (lakeOptions: { mustExist?: boolean }): Promise<ObjectStore> => {
    const { openLake } = await import('../lake/open.ts');
    const mustExist = lakeOptions.mustExist ? { mustExist: true } : {};
    if (!config.lake.startsWith('s3://')) return openLake(config.lake, cwd, mustExist);
    const [{ defaultCacheRoot, lakeCacheName }, clients] = await Promise.all([import('../lake/object-cache.ts'), aws()]);
    const store = await openLake(config.lake, cwd, {
      ...mustExist,
      s3: {
        client: await clients.client('s3'),
        multipartThresholdBytes: config.aws.s3.multipartThresholdBytes,
        partSizeBytes: config.aws.s3.partSizeBytes,
        cacheDir: path.join(config.aws.s3.cacheDir ? path.resolve(cwd, config.aws.s3.cacheDir) : defaultCacheRoot(env), lakeCacheName(config.lake)),
      },
    });
    // Fail with one clear line (no such bucket, no credentials, wrong region) before anything is written.
    await (store as ObjectStore & { check(): Promise<void> }).check();
    return store;
  };

  const localStateDir = once(async () => (await lake()).localPath('') ?? path.join(cwd, '.openevents'));

  let cloudWatch: { close(): Promise<void>; stats(): { dropped: number; lastError?: string } } | undefined;
  let sinkComponent = 'openevents';
  const sink = once(async (): Promise<TelemetrySink> => {
    if (config.profile === 'aws') {
      const [{ CloudWatchTelemetry }, { CloudWatchLogsClient }, { awsClient }] = await Promise.all([
        import('../telemetry/cloudwatch.ts'),
        import('@aws-sdk/client-cloudwatch-logs'),
        import('../aws/clients.ts'),
      ]);
      // Its own client: the sink retries on its own schedule, so one SDK attempt and a short timeout.
      const client = awsClient('cloudwatch_logs', CloudWatchLogsClient, { ...awsOptions, maxAttempts: 1, requestTimeoutMs: 10_000 });
      const telemetry = new CloudWatchTelemetry({
        client,
        group: config.aws.logs.group,
        component: sinkComponent,
        maxBufferedRecords: config.aws.logs.bufferRecords,
        now,
        onProblem: warn,
      });
      cloudWatch = {
        stats: () => telemetry.stats(),
        close: async () => {
          await telemetry.close();
          client.destroy();
        },
      };
      return telemetry;
    }
    const { LocalTelemetry } = await import('../telemetry/telemetry.ts');
    return new LocalTelemetry(await localStateDir(), { now });
  });

  const telemetryReader = once(async (): Promise<TelemetryReader> => {
    if (config.profile === 'aws') {
      const { CloudWatchTelemetryReader } = await import('../telemetry/cloudwatch.ts');
      return new CloudWatchTelemetryReader(await (await aws()).client('cloudwatch_logs'), config.aws.logs.group, { now });
    }
    const { LocalTelemetry } = await import('../telemetry/telemetry.ts');
    return new LocalTelemetry(await localStateDir(), { now });
  });

  return {
    config,
    awsOptions,
    aws,
    lake,
    telemetry: (component?: string) => {
      if (component && sinkComponent === 'openevents') sinkComponent = component;
      return sink();
    },
    telemetryReader,
    localStateDir,
    async close() {
      if (cloudWatch) {
        await cloudWatch.close();
        const { dropped, lastError } = cloudWatch.stats();
        if (dropped > 0) warn(`telemetry: ${dropped} record(s) could not be shipped to CloudWatch Logs group ${config.aws.logs.group}${lastError ? ` (${lastError})` : ''}`);
      } else {
        await (await sink.started)?.close();
      }
      await (await aws.started)?.destroy();
      return warnings;
    },
  };
}

/** A value made on first call and shared after; `started` is its promise once made. */
function once<T>(make: () => Promise<T>): (() => Promise<T>) & { readonly started: Promise<T> | undefined } {
  let value: Promise<T> | undefined;
  const get = (): Promise<T> => (value ??= make());
  return Object.defineProperty(get, 'started', { get: () => value?.catch(() => undefined) }) as (() => Promise<T>) & { readonly started: Promise<T> | undefined };
}
