import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/moto.ts';
import { runProcess, waitForLine } from '../helpers/cli.ts';

/**
 * The package as a user gets it: `npm pack`, installed with `npm install --global` into an empty
 * prefix, run from an empty folder with nothing but node on PATH (no tsx, no Python, no checkout).
 * dist/ is fresh (the global setup built it), so the tarball is packed without the prepack build:
 * rebuilding here would swap dist/ under the tests running next to this one.
 */
describe('the npm package, installed into an empty prefix', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string> };
  let work: string;
  let files: string[];
  let openevents: string;
  let env: NodeJS.ProcessEnv;
  let cwd: string;
  const children: ChildProcess[] = [];

  beforeAll(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'oe-pack-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', env: withoutNpmConfig() }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    files = packed[0]!.files.map((f) => f.path);
    const prefix = path.join(work, 'prefix');
    execFileSync(
      'npm',
      ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', path.join(work, packed[0]!.filename)],
      { cwd: work, stdio: ['ignore', 'ignore', 'pipe'], env: withoutNpmConfig() },
    );
    openevents = path.join(prefix, 'bin/openevents');
    // Nothing but node on PATH, an empty home and working folder.
    const bin = path.join(work, 'node-only');
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, 'node'));
    cwd = path.join(work, 'home');
    mkdirSync(cwd);
    env = { PATH: bin, HOME: cwd, TMPDIR: os.tmpdir() };
  }, 600_000);

  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  const run = (args: string[]) => runProcess(openevents, args, { cwd, env });

  it('holds the compiled toolkit and its assets, and no sources, tests, benches or fixtures', () => {
    expect(pkg.scripts.prepack).toMatch(/scripts\/build\.mjs/);
    expect(files).toContain('dist/cli/main.js');
    expect(files).toContain('dist/cli/main.js.map');
    expect(files).toContain('reports/report.css');
    expect(files).toContain('spark/jobs/etl.py');
    // Every asset under src/ ships in dist/.
    const assets = readdirSync(path.join(ROOT, 'src'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && !/\.tsx?$/.test(d.name))
      .map((d) => path.join('dist', path.relative(path.join(ROOT, 'src'), path.join(d.parentPath, d.name))));
    expect(files).toEqual(expect.arrayContaining(assets));
    // Of provisioning/, only what the toolkit itself uses on the machines it makes (EC2 user-data, EMR bootstrap, IAM templates).
    expect(files).toEqual(expect.arrayContaining(['provisioning/provision.sh', 'provisioning/ec2/openevents-streamer.service', 'provisioning/iam/streamer.json']));
    const shipped = /^provisioning\/(provision\.sh$|ec2\/|emr\/|iam\/)/;
    const stray = files.filter((f) => /^(src|test|bench|scripts|bin|provisioning|spark\/tests)\//.test(f) && !shipped.test(f) || /\.tsx?$/.test(f) || f.includes('__pycache__'));
    expect(stray).toEqual([]);
  });

  it('answers --version from package.json', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  it('serves 100 generated events on a free port, streams them into a lake, processes them and builds the report', async () => {
    // Given the installed source server on a port it picks
    const server = spawn(openevents, ['source', 'serve', '--generate', '--count', '100', '--port', '0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(server);
    const [, url] = await waitForLine(server, /^listening on (http:\/\/127\.0\.0\.1:\d+\/2\/open_events)$/m);

    // When the installed streamer takes 100 events into a lake, the ETL runs and the report is built
    const lake = path.join(cwd, 'lake');
    const stream = await run(['stream', '--url', url!, '--lake', lake, '--max-events', '100', '--json']);
    expect(stream.code, stream.stderr).toBe(0);
    server.kill('SIGTERM');
    const etl = await run(['etl', '--lake', lake, '--json']);
    expect(etl.code, etl.stderr).toBe(0);
    const report = await run(['report', 'build', '--lake', lake, '--json']);
    expect(report.code, report.stderr).toBe(0);

    // Then the raw lake holds the 100 events (read here with zlib), and the report counts them
    const raw = readdirSync(path.join(lake, 'raw'), { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ndjson.gz'))
      .flatMap((d) => gunzipSync(readFileSync(path.join(d.parentPath, d.name))).toString('utf8').split('\n').filter(Boolean));
    expect(raw).toHaveLength(100);
    const stats = await run(['stats', '--lake', lake, '--json']);
    expect((JSON.parse(stats.stdout) as { totals: { eventsReceived: number } }).totals.eventsReceived).toBe(100);
    const built = JSON.parse(report.stdout) as { indexLocation: string };
    const page = readFileSync(built.indexLocation, 'utf8');
    expect(page).toMatch(/^<!doctype html>/i);
    expect(page).toContain('<svg');
  });

  it('runs the demo end to end', async () => {
    const lake = path.join(cwd, 'demo-lake');
    const demo = await run(['demo', '--lake', lake, '--duration', '2', '--history-hours', '1', '--events-per-hour', '300', '--rate', '50', '--json']);
    expect(demo.code, demo.stderr).toBe(0);
    const summary = JSON.parse(demo.stdout) as { reportLocation?: string; hoursProcessed: number };
    expect(summary.hoursProcessed).toBeGreaterThan(0);
    expect(readFileSync(summary.reportLocation!, 'utf8')).toContain('<svg');
  });
});

/** The environment without the npm_* variables that `npm test` sets (they would steer the inner npm). */
function withoutNpmConfig(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
}
