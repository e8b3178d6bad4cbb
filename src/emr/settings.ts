import type { Config, EmrConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';

/** `aws.emr` with its defaults resolved against the lake: where code and logs go, lists split. */
export interface EmrSettings extends Omit<EmrConfig, 'subnetIds' | 'primaryInstanceTypes' | 'coreInstanceTypes' | 'codeUri' | 'logUri'> {
  /** s3://…/ (ends with /): code is uploaded under `<codeUri><hash>/`. */
  codeUri: string;
  /** s3://…/ (ends with /): EMR writes `<logUri><cluster id>/…`. */
  logUri: string;
  subnetIds: string[];
  primaryInstanceTypes: string[];
  coreInstanceTypes: string[];
  /** The lake the steps read and write (s3://…/). */
  lake: string;
}

/** The EMR settings of a config. A cluster reads the lake from S3, so the lake must be s3://. */
export function emrSettings(config: Config): EmrSettings {
  const emr = config.aws.emr;
  if (!/^s3:\/\/[^/]+/.test(config.lake)) {
    throw new UserError(`EMR runs need the lake in S3; the lake is ${config.lake}`, {
      hint: 'set lake to s3://bucket/prefix (config file, OPENEVENTS_LAKE or --lake)',
    });
  }
  const lake = withSlash(config.lake);
  const split = (list: string): string[] => list.split(',').filter((s) => s !== '');
  const uri = (value: string, key: string, fallback: string): string => {
    if (value === '') return fallback;
    if (!/^s3:\/\/[^/]+/.test(value)) throw new UserError(`aws.emr.${key} must be an s3:// URI, got "${value}"`);
    return withSlash(value);
  };
  const primaryInstanceTypes = split(emr.primaryInstanceTypes);
  const coreInstanceTypes = split(emr.coreInstanceTypes);
  if (primaryInstanceTypes.length === 0) throw new UserError('aws.emr.primaryInstanceTypes names no instance type');
  if (emr.coreInstances > 0 && coreInstanceTypes.length === 0) throw new UserError('aws.emr.coreInstanceTypes names no instance type');
  return {
    ...emr,
    lake,
    codeUri: uri(emr.codeUri, 'codeUri', `${lake}_emr/code/`),
    logUri: uri(emr.logUri, 'logUri', `${lake}_emr/logs/`),
    subnetIds: split(emr.subnetIds),
    primaryInstanceTypes,
    coreInstanceTypes,
  };
}

/** Bucket and key of an s3:// URI; EMR reports its LogUri as s3n://, Hadoop writes s3a://. */
export function s3Location(uri: string): { bucket: string; key: string } {
  const m = /^s3[an]?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m || !m[1]) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1], key: m[2] ?? '' };
}

function withSlash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}
