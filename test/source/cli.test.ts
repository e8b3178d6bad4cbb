import { describe, expect, it } from 'vitest';
import { runCli, spawnCli, waitForLine } from '../helpers/cli.ts';
import { readStream } from '../helpers/source-client.ts';
import { CAPTURE } from '../helpers/fixtures.ts';


describe('openevents source serve', () => {
  it('prints the listening line first, serves the stream, and exits 0 on SIGTERM', async () => {
    // Given the command replaying the capture on a free port
    const child = spawnCli(['source', 'serve', '--replay', CAPTURE, '--port', '0']);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // When it is up
      const match = await waitForLine(child, /^listening on (http:\/\/127\.0\.0\.1:\d+\/2\/open_events)\n/);
      // Then the first line names the URL, and the URL streams the capture
      expect(stdout.split('\n')[0]).toBe(`listening on ${match[1]}`);
      const read = await readStream(match[1]!, { lines: 758, idleMs: 2_000 });
      expect(read.lines).toHaveLength(758);
    } finally {
      // And SIGTERM stops it cleanly
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('serves generated events with faults', async () => {
    const child = spawnCli(['source', 'serve', '--generate', '--count', '50', '--seed', '3', '--port', '0', '--faults', 'malformed:every=10']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const match = await waitForLine(child, /listening on (\S+)\n/);
      const read = await readStream(match[1]!, { idleMs: 1_000 });
      expect(read.lines).toHaveLength(55);
      const parsesAsJson = (l: string) => {
        try {
          JSON.parse(l);
          return true;
        } catch {
          return false;
        }
      };
      expect(read.lines.filter(parsesAsJson)).toHaveLength(50);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('rejects a bad fault spec and a missing source with exit 1 and a clear message', async () => {
    const [bad, none] = await Promise.all([runCli(['source', 'serve', '--generate', '--faults', 'explode:1']), runCli(['source', 'serve'])]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('invalid --faults "explode:1"');
    expect(bad.stdout).not.toContain('listening on');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('--replay');
  });

  it('documents its options and the fault syntax in --help', async () => {
    const help = await runCli(['source', 'serve', '--help']);
    expect(help.code).toBe(0);
    for (const option of ['--host', '--port', '--replay', '--generate', '--count', '--seed', '--rate', '--faults', 'disconnect:<n>', 'Retry-After']) {
      expect(help.stdout).toContain(option);
    }
  });
});
