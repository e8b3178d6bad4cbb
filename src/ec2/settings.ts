import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, type Config, type ConfigInput, type Ec2Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { redactUrl } from '../redact.ts';

/** The toolkit's package root (holds package.json and provisioning/), from src/ec2 or dist/ec2. */
export const PACKAGE_ROOT = path.resolve(import.meta.dirname, '../..');
/** provisioning/ec2/: the streamer's unit and user-data template. */
export const EC2_PROVISIONING = path.join(PACKAGE_ROOT, 'provisioning/ec2');

/** The tag every EC2 streamer carries, with `aws.ec2.name` as its value: how `ec2` finds it. */
export const STREAMER_TAG = 'openevents:streamer';

/** `aws.ec2` with its defaults resolved: where the toolkit tarball goes, the region. */
export interface Ec2Settings extends Ec2Config {
  /** s3://bucket/prefix/ (ends with /): tarballs go to `<artifactUri>openevents-<version>-<hash>.tgz`. */
  artifactUri: string;
  region: string;
}

/** The EC2 streamer's settings of a config in `region`. The streamer keeps its checkpoint in the lake, so the lake must be s3://. */
export function ec2Settings(config: Config, region: string): Ec2Settings {
  if (!/^s3:\/\/[^/]+/.test(config.lake)) {
    throw new UserError(`the EC2 streamer keeps its checkpoint and quarantine in the lake, which must be in S3; the lake is ${config.lake}`, {
      hint: 'set lake to s3://bucket/prefix (config file, OPENEVENTS_LAKE or --lake)',
    });
  }
  const lake = withSlash(config.lake);
  return { ...config.aws.ec2, region, artifactUri: config.aws.ec2.artifactUri ? withSlash(config.aws.ec2.artifactUri) : `${lake}_ec2/` };
}

/**
 * The config the instance's streamer runs with (/etc/openevents/openevents.config.json): the aws
 * profile, the lake, the source and the stream settings, Kinesis, CloudWatch Logs and S3 — not
 * the endpoint override (an emulator here is not reachable from there), and never a secret:
 * user-data is readable by anyone who may describe the instance, so a source URL that carries
 * one is refused.
 */
export function instanceConfig(config: Config, region: string): ConfigInput {
  const url = config.source.url;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new UserError(`source.url is not a URL: ${redactUrl(url)}`);
  }
  if (/^(localhost|127\.[\d.]+|\[::1\]|0\.0\.0\.0)$/.test(host)) {
    throw new UserError(`the EC2 streamer would read ${url} on the instance itself`, {
      hint: 'set source.url (or OPENEVENTS_SOURCE_URL) to the stream the instance should read',
    });
  }
  if (redactUrl(url) !== url) {
    throw new UserError(`source.url carries a secret (${redactUrl(url)}), and user-data is readable by anyone who may describe the instance`, {
      hint: 'launch with a source URL without it, then put OPENEVENTS_SOURCE_URL=<url> in /etc/openevents/streamer.env on the instance and restart openevents-streamer',
    });
  }
  const { kinesis, logs, s3 } = config.aws;
  // Defaults are left out, so the instance gets the defaults of the toolkit it runs.
  const defaults = configSchema.parse({});
  return {
    profile: 'aws',
    lake: config.lake,
    source: { url },
    stream: changed(config.stream, defaults.stream),
    aws: {
      region,
      kinesis: { stream: kinesis.stream },
      logs: { group: logs.group, ...changed({ bufferRecords: logs.bufferRecords }, defaults.aws.logs) },
      s3: changed({ multipartThresholdBytes: s3.multipartThresholdBytes, partSizeBytes: s3.partSizeBytes }, defaults.aws.s3),
    },
  };
}

/** The entries of `values` that differ from `defaults`. */
function changed<T extends object>(values: T, defaults: object): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([key, value]) => (defaults as Record<string, unknown>)[key] !== value)) as Partial<T>;
}

/** What the template needs. */
export interface UserDataValues {
  name: string;
  region: string;
  /** s3:// URI of the toolkit's tarball. */
  artifact: string;
  /** The instance's config. */
  config: ConfigInput;
}

/** EC2's limit on user-data, before base64. */
export const USER_DATA_MAX_BYTES = 16 * 1024;

/**
 * The instance's cloud-init user-data: provisioning/ec2/user-data.yaml with its {{placeholders}}
 * filled. Values go into single-quoted YAML scalars (quotes doubled); the config is JSON, which
 * is YAML, indented into a block scalar.
 */
export function renderUserData(values: UserDataValues): string {
  const template = readFileSync(path.join(EC2_PROVISIONING, 'user-data.yaml'), 'utf8');
  const artifactFile = values.artifact.slice(values.artifact.lastIndexOf('/') + 1);
  if (!/^[\w.+-]+\.tgz$/.test(artifactFile)) throw new UserError(`not a toolkit tarball name: ${artifactFile}`);
  const fields: Record<string, string> = {
    name: values.name,
    region: values.region,
    artifact: values.artifact,
    artifactFile,
    config: JSON.stringify(values.config, null, 2)
      .split('\n')
      .map((line) => `      ${line}`)
      .join('\n'),
  };
  const text = template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = fields[key];
    if (value === undefined) throw new Error(`user-data template: unknown placeholder {{${key}}}`);
    return key === 'config' ? value : value.replace(/'/g, "''").replace(/[\r\n]/g, ' ');
  });
  const bytes = Buffer.byteLength(text);
  if (bytes > USER_DATA_MAX_BYTES) throw new UserError(`the user-data is ${bytes} bytes, more than EC2's ${USER_DATA_MAX_BYTES}`);
  return text;
}

function withSlash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}
