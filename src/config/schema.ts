import { z } from 'zod';

/** Where the pipeline runs: embedded on this machine, or on AWS. */
export const profiles = ['local', 'aws'] as const;
export type Profile = (typeof profiles)[number];

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

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
        engine: z.enum(['duckdb', 'spark']).default('duckdb'),
        /** One engine pass covers at most this many raw records ... */
        batchRecords: positiveInt.default(100_000),
        /** ... and this many raw bytes (as stored); a bigger hour is a pass of its own. */
        batchBytes: positiveInt.default(256 * 1024 * 1024),
      })
      .prefault({}),
    ml: z
      .strictObject({
        engine: z.enum(['ts', 'spark']).default('ts'),
        vocabularySize: positiveInt.default(2000),
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
    aws: z
      .strictObject({
        region: z.string().default('us-east-1'),
        /** Endpoint override for every AWS client (an emulator); empty means AWS itself. AWS_ENDPOINT_URL* also work. */
        endpointUrl: z.string().default(''),
        kinesisStream: z.string().default('openevents'),
        /** Bucket the report is published to (a website bucket); empty means not configured. */
        reportBucket: z.string().default(''),
        reportPrefix: z.string().default('reports/'),
      })
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
/** A partial config as written in a file, the environment or flags. */
export type ConfigInput = z.input<typeof configSchema>;
