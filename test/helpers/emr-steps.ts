import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { EMR_OPENEVENTS } from '../../src/emr/toolkit.ts';
import { runEtl } from '../../src/etl/run.ts';
import { rawHourPrefix, type HourId } from '../../src/lake/layout.ts';
import { S3Store } from '../../src/lake/s3-store.ts';
import { corpusNdjson, generateCorpus, type CorpusEvent } from './ml-corpus.ts';
import { EMR_CODE_DIR } from '../../src/jobs/spark-submit.ts';
import { OPENEVENTS } from './cli.ts';
import { ROOT } from './moto.ts';

/**
 * The stand-in for a cluster's primary node in the fake EMR endpoint's `runStep`: runs an EMR
 * step's command here — a `spark-submit` on YARN becomes spark-submit in local mode with the code
 * bundle being this checkout, the toolkit's command (EMR_OPENEVENTS) the built CLI — with `env`
 * (moto_server's endpoint and credentials). Each step runs in its own process group, so
 * `killAll` ends a step's JVM and Python workers with it.
 */
export function stepRunner(env: () => NodeJS.ProcessEnv): { run: (args: readonly string[]) => Promise<{ exitCode: number; stderr: string }>; killAll: () => void } {
  const running = new Set<ChildProcess>();
  const bin = path.join(ROOT, '.venv/bin');
  const command = (args: readonly string[]): string[] => {
    if (args[0] === EMR_OPENEVENTS) return [process.execPath, OPENEVENTS, ...args.slice(1)];
    if (args[0] !== 'spark-submit') throw new Error(`not a step command this stand-in knows: ${args.join(' ')}`);
    const rest = args.slice(1).filter((a, i, all) => !(a === '--deploy-mode' || all[i - 1] === '--deploy-mode'));
    const local = rest.map((a) => (a.startsWith(`${EMR_CODE_DIR}/`) ? path.join(ROOT, a.slice(EMR_CODE_DIR.length + 1)) : a));
    return [path.join(bin, 'spark-submit'), '--master', 'local[2]', '--driver-memory', '1g', '--conf', 'spark.ui.enabled=false', '--conf', 'spark.sql.shuffle.partitions=4', ...local];
  };
  return {
    run: (args) => {
      const [program, ...argv] = command(args);
      const child = spawn(program!, argv, {
        env: { ...process.env, ...env(), PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, PYSPARK_PYTHON: path.join(bin, 'python') },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      });
      running.add(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => {
          running.delete(child);
          resolve({ exitCode: code ?? 1, stderr });
        });
      });
    },
    killAll: () => {
      for (const child of running) if (child.pid) process.kill(-child.pid, 'SIGKILL');
    },
  };
}

/**
 * Curated tables to train on in an S3 lake: generated outdoors/tech events as one raw hour, run
 * through the real ETL (DuckDB) into the bucket. Returns the events.
 */
export async function seedTrainingLake(lake: string, moto: { endpoint: string; env: Record<string, string> }, cacheDir: string, hour: HourId, count = 300): Promise<CorpusEvent[]> {
  const events = generateCorpus({ events: count, seed: 11 });
  const store = S3Store.fromUrl(lake, { endpointUrl: moto.endpoint, env: { ...moto.env }, cacheDir });
  await store.put(`${rawHourPrefix(hour)}gen-1-${count}.ndjson`, corpusNdjson(events));
  const etl = await runEtl(store, { select: { hours: [hour] } });
  if (etl.validRecords !== count) throw new Error(`the ETL kept ${etl.validRecords} of ${count} generated events`);
  return events;
}
