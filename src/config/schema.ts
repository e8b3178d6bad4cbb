import { z } from 'zod';

/** The ETL engines, by the name `etl.engine` and `--engine` take. */
export const ENGINE_NAMES = ['duckdb', 'spark', 'emr'] as const;

/** Where the pipeline runs: embedded on this machine, or on AWS. */
export const profiles = ['local', 'aws'] as const;
export type Profile = (typeof profiles)[number];

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
/** The scheduler's shortest interval (`schedule --every`). */
export const MIN_SCHEDULE_EVERY_MS = 10_000;
/** S3's smallest multipart part (except the last). */
const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3 bucket names (the common rules; S3 itself has the last word). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const BUCKET_NAME_RULE = 'a bucket name: 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit';
/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS: readonly number[] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/** A comma-separated list in one string (so one environment variable can set it). */
const csv = (fallback: string) => z.string().regex(/^[\w.:/-]*(,[\w.:/-]+)*$/, 'comma-separated names, no spaces').default(fallback);

/** `aws.emr`: the clusters `openevents emr run` and the EMR engine start (read by src/emr/). */
const emrSchema = z
  .object({
    /** The pipeline's name: cluster names start with it and clusters are tagged `pipeline=<name>`. */
    name: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, . _ - (at most 64)').default('openevents'),
    releaseLabel: z.string().regex(/^emr-\d+\.\d+\.\d+$/, 'an EMR release label like emr-7.9.0').default('emr-7.9.0'),
    /** Where spark/ is uploaded, once per content hash; empty: <lake>/_emr/code/. */
    codeUri: z.string().default(''),
    /** Where EMR writes cluster and step logs; empty: <lake>/_emr/logs/. */
    logUri: z.string().default(''),
    serviceRole: z.string().min(1).default('EMR_DefaultRole'),
    /** The EC2 instance profile of the cluster's nodes (JobFlowRole). */
    instanceProfile: z.string().min(1).default('EMR_EC2_DefaultRole'),
    /** Subnets to launch in (fleets pick one); empty: the default VPC. */
    subnetIds: csv(''),
    /** `fleets` (several instance types, Spot with on-demand fallback) or `groups` (the first type of each list). */
    instances: z.enum(['fleets', 'groups']).default('fleets'),
    primaryInstanceTypes: csv('m5.xlarge'),
    coreInstanceTypes: csv('m5.xlarge,m5a.xlarge,m6i.xlarge'),
    /** Core nodes (fleets: units of capacity, one per instance). */
    coreInstances: nonNegativeInt.max(256).default(2),
    /** `spot` asks for Spot capacity (fleets: switching to on-demand after spotTimeoutMinutes); `--spot` sets it for one run. */
    market: z.enum(['on-demand', 'spot']).default('on-demand'),
    spotTimeoutMinutes: z.number().int().min(5).max(1440).default(10),
    /** What a failed step does to the cluster and the steps after it. */
    actionOnFailure: z.enum(['TERMINATE_CLUSTER', 'CANCEL_AND_WAIT', 'CONTINUE']).default('TERMINATE_CLUSTER'),
    /** A cluster left idle this long terminates (a safety net: clusters end after their last step anyway). */
    idleTimeoutMinutes: z.number().int().min(1).max(10080).default(15),
    /** How often a waiting command, the engine and the Jobs pane ask EMR for news. */
    pollSeconds: z.number().int().min(1).max(600).default(30),
  })
  .strict()
  .prefault({});

/** `aws.ec2`: the EC2 streamer `openevents ec2 launch` starts (read by src/ec2/). */
const ec2Schema = z
  .object({
    /** The instance's Name tag, and the value of its `openevents:streamer` tag, by which it is found (never a second one). */
    name: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, . _ - (at most 64)').default('openevents-streamer'),
    instanceType: z.string().regex(/^[a-z0-9-]+\.[a-z0-9]+$/, 'an instance type like t3.small').default('t3.small'),
    /** An AMI id, or resolve:ssm:<parameter> (Debian 12's public parameter by default: the streamer's provisioning needs Debian). */
    imageId: z.string().regex(/^(ami-[0-9a-f]{8,17}|resolve:ssm:\/[\w./-]+)$/, 'an AMI id (ami-…) or resolve:ssm:/parameter/name').default('resolve:ssm:/aws/service/debian/release/bookworm/latest/amd64'),
    /** The subnet to launch in; empty: the default VPC's default subnet. */
    subnetId: z.string().regex(/^(subnet-[0-9a-f]{8,17})?$/, 'a subnet id (subnet-…)').default(''),
    /** A security group for the instance (it only connects out); empty: the VPC's default group. */
    securityGroupId: z.string().regex(/^(sg-[0-9a-f]{8,17})?$/, 'a security group id (sg-…)').default(''),
    /** An EC2 key pair for SSH; empty: no key (reach the instance with SSM Session Manager or EC2 Instance Connect). */
    keyName: z.string().max(255).default(''),
    /** The instance profile (its role lets the streamer put to Kinesis and write the lake): `infra up` creates openevents-streamer. */
    instanceProfile: z.string().regex(/^[\w+=,.@-]{1,128}$/, 'an instance profile name').default('openevents-streamer'),
    /** Where `ec2 launch` uploads the toolkit's npm pack tarball (one object per content hash); empty: <lake>/_ec2/. */
    artifactUri: z.string().regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?)?$/, 'an s3:// URI').default(''),
  })
  .strict()
  .prefault({});

/** `aws.iam`: the roles `infra up` creates from provisioning/iam/ (read by src/aws/iam.ts). */
const iamSchema = z
  .object({
    /** Who may assume the operator role: an IAM principal ARN; empty: any principal of the account whose own policy allows it. */
    operatorPrincipal: z.string().regex(/^(arn:aws[\w-]*:iam::\d{12}:(root|user\/[\w+=,.@/-]+|role\/[\w+=,.@/-]+))?$/, 'an IAM user, role or account root ARN').default(''),
    /** Whether assuming the operator role needs an MFA-signed session. */
    operatorMfa: z.enum(['required', 'optional']).default('required'),
  })
  .strict()
  .prefault({});

/**
 * The one typed configuration of the toolkit. Every key has a default, so an empty file (or no
 * file) is a valid local setup. Keys are documented here and in README's "Configuration".
 * Every object is strict: an unknown key at any depth is an error, never silently ignored.
 */
export const configSchema = z
  .object({
    profile: z.enum(profiles).default('local'),
    /** The lake root: a folder (local profile) or s3://bucket/prefix (aws profile). */
    lake: z.string().min(1).default('./lake'),
    source: z
      .strictObject({
        /** Stream URL the streamer reads; empty means "the local source server". */
        url: z.string().default('http://127.0.0.1:8088/2/open_events'),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8088),
      })
      .prefault({}),
    stream: z
      .strictObject({
        /** No bytes for this long counts as a broken connection. */
        stallTimeoutMs: positiveInt.default(30_000),
        /** Resume with since_mtime = highest mtime seen minus this window (mtime is not monotonic). */
        resumeWindowMs: nonNegativeInt.default(10 * 60_000),
        backoffInitialMs: positiveInt.default(250),
        backoffMaxMs: positiveInt.default(30_000),
        /** Rotate the open raw file at this many bytes (compressed) ... */
        rotateBytes: positiveInt.default(64 * 1024 * 1024),
        /** ... or when it is this old. */
        rotateAgeMs: positiveInt.default(60_000),
        /** Close an hour (write its _manifest.json) this long after it ended. */
        hourGraceMs: nonNegativeInt.default(5 * 60_000),
        /** Records larger than this are quarantined (Kinesis' own limit is 1 MiB). */
        maxRecordBytes: positiveInt.default(1024 * 1024),
        statsIntervalMs: positiveInt.default(5_000),
        /** A streamer holds its writer id with a lease this long, renewed every third of it; another takes the id over only after it expired. */
        leaseTtlMs: positiveInt.default(30_000),
      })
      .prefault({}),
    etl: z
      .strictObject({
        /** duckdb (in-process), spark (local spark-submit) or emr (Spark as EMR steps; the lake in S3, settings in aws.emr). */
        engine: z.enum(ENGINE_NAMES).default('duckdb'),
        /** One engine pass covers at most this many raw records ... */
        batchRecords: positiveInt.default(100_000),
        /** ... and this many raw bytes (as stored); a bigger hour is a pass of its own. */
        batchBytes: positiveInt.default(256 * 1024 * 1024),
      })
      .prefault({}),
    ml: z
      .strictObject({
        /** ts (embedded), spark (local spark-submit) or emr (the Spark job as an EMR step; the lake in S3, settings in aws.emr). */
        engine: z.enum(['ts', 'spark', 'emr']).default('ts'),
        /** The classifier (src/ml/model.ts MODEL_KINDS); unset: the default model. */
        model: z.enum(['lr', 'nb', 'ensemble', 'rf']).optional(),
        /** Unset: the model's own default (20,000 for the linear models, 2,000 for the forest). */
        vocabularySize: positiveInt.optional(),
        trees: positiveInt.default(100),
        maxDepth: positiveInt.default(20),
        /** Features tried per split; 0 means sqrt(vocabularySize). */
        featuresPerSplit: nonNegativeInt.default(0),
        seed: z.number().int().default(42),
        testFraction: z.number().gt(0).lt(1).default(0.2),
      })
      .prefault({}),
    monitor: z
      .strictObject({
        refreshMs: z.number().int().min(100).default(1_000),
      })
      .prefault({}),
    schedule: z
      .strictObject({
        /** How often `openevents schedule` looks for work; under an hour it also refreshes the open hour. */
        everyMs: z.number().int().min(MIN_SCHEDULE_EVERY_MS).default(3_600_000),
        /** Runs of one hour before the scheduler gives up on it (and `alerts` reports it) until its raw data changes. */
        maxAttempts: positiveInt.default(4),
        /** Wait before the first retry of a failed hour; doubled each time ... */
        retryInitialMs: positiveInt.default(60_000),
        /** ... up to this. */
        retryMaxMs: positiveInt.default(30 * 60_000),
        /** A scheduler holds the lake's schedule lease this long, renewed every third of it. */
        leaseTtlMs: z.number().int().min(1_000).default(120_000),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        /** Hours, jobs and telemetry this far back are looked at. */
        lookbackHours: positiveInt.default(24),
        /** stream-silent: no stats from a streamer (that did not stop on purpose) for this long. */
        streamSilentMs: positiveInt.default(2 * 60_000),
        /** stream-stalled: a running streamer has received no event for this long. */
        streamStalledMs: positiveInt.default(10 * 60_000),
        /** hour-late: an hour with raw data is not processed this long after it ended. */
        hourLateMs: positiveInt.default(30 * 60_000),
        /** quarantine-rate: an hour's quarantined share of its records above this ... */
        quarantineRate: z.number().min(0).max(1).default(0.05),
        /** ... among at least this many records. */
        quarantineMinRecords: positiveInt.default(100),
        /** lander-lag: the lander trails the Kinesis stream by more than this. */
        landerLagMs: positiveInt.default(5 * 60_000),
      })
      .prefault({}),
    aws: z
      .strictObject({
        /** Region of every AWS client; empty: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
        region: z.string().default(''),
        /** Endpoint override for every AWS client (an emulator); empty means AWS itself. AWS_ENDPOINT_URL* also work. */
        endpointUrl: z.string().default(''),
        kinesis: z
          .strictObject({
            /** The stream the streamer puts to and the lander reads. */
            stream: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, 'a Kinesis stream name: 1-128 letters, digits, "_", "." and "-"').default('openevents'),
            /** Open shards `infra up` creates (and reshards to). */
            shards: positiveInt.max(500).default(1),
          })
          .prefault({}),
        firehose: z
          .strictObject({
            /** The delivery stream (the original system's path); empty: Firehose is not used and `infra` skips it. */
            deliveryStream: z.string().regex(/^[a-zA-Z0-9_.-]{0,64}$/, 'a Firehose stream name: 1-64 letters, digits, "_", "." and "-"').default(''),
            /** The role Firehose assumes to write the lake bucket; empty: arn:aws:iam::<account>:role/openevents-firehose. */
            roleArn: z.string().default(''),
            /** Firehose writes an object when this many seconds or MiB have gathered, whichever comes first. */
            bufferSeconds: z.number().int().min(0).max(900).default(60),
            bufferMiB: z.number().int().min(1).max(128).default(5),
            compression: z.enum(['GZIP', 'UNCOMPRESSED']).default('GZIP'),
          })
          .prefault({}),
        logs: z
          .strictObject({
            /** The CloudWatch Logs group of the aws profile's telemetry. */
            group: z.string().regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, 'a log group name: 1-512 letters, digits and "._-/#"').default('/openevents'),
            /** Days CloudWatch keeps the records (one of the values CloudWatch allows; 0: forever). */
            retentionDays: z
              .number()
              .int()
              .refine((d) => d === 0 || LOG_RETENTION_DAYS.includes(d), { message: `one of 0, ${[1, 3, 5, 7, 14, 30, 60, 90, 180, 365, 3653].join(', ')}, … (CloudWatch's values)` })
              .default(30),
            /** Records held while CloudWatch Logs cannot be reached; beyond this the oldest are dropped, and counted. */
            bufferRecords: positiveInt.default(10_000),
          })
          .prefault({}),
        report: z
          .strictObject({
            /** The website bucket the report is published to; empty means not configured. */
            bucket: z.string().regex(BUCKET_NAME, BUCKET_NAME_RULE).or(z.literal('')).default(''),
            /** Key prefix of the report in that bucket: the only publicly readable part. */
            prefix: z.string().default('reports/'),
          })
          .prefault({}),
        ec2: ec2Schema,
        iam: iamSchema,
        s3: z
          .strictObject({
            /** Objects larger than this are uploaded in parts (a completed multipart upload is the atomic write). */
            multipartThresholdBytes: positiveInt.min(MIN_PART_BYTES).default(64 * 1024 * 1024),
            /** Size of each part (S3's minimum is 5 MiB). */
            partSizeBytes: positiveInt.min(MIN_PART_BYTES).default(16 * 1024 * 1024),
            /** Where an s3:// lake's objects are cached for the engines; empty: $XDG_CACHE_HOME/openevents, else ~/.cache/openevents. */
            cacheDir: z.string().default(''),
          })
          .prefault({}),
        emr: emrSchema,
      })
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
/** A partial config as written in a file, the environment or flags. */
export type ConfigInput = z.input<typeof configSchema>;
/** The `aws.emr` section. */
export type EmrConfig = z.infer<typeof emrSchema>;
/** The `aws.ec2` section. */
export type Ec2Config = z.infer<typeof ec2Schema>;
