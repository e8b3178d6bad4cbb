import { ENGINE_NAMES } from '../../src/config/schema.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { complete, type CompletionValues } from '../../src/cli/complete.ts';
import { createProgram } from '../../src/cli/program.ts';
import { OPENEVENTS, runCli } from '../helpers/cli.ts';
import { describeWith } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';
import { writeRawHour } from '../helpers/tui-lake.ts';

const tmp = tempDirs('oe-completion-');
const HOURS = ['2026-11-28T06', '2026-11-28T07', '2026-11-29T23'];
const RUNS = ['20261128-063012-345-ts', '20261129-101500-001-spark'];

/** A lake folder with three raw hours and two model runs (one unfinished run without metrics). */
function lakeWithHoursAndRuns(): string {
  const lake = path.join(tmp(), 'lake');
  for (const hour of HOURS) writeRawHour(lake, hour, 3);
  for (const run of RUNS) {
    mkdirSync(path.join(lake, 'models', run), { recursive: true });
    writeFileSync(path.join(lake, 'models', run, 'metrics.json'), '{}');
  }
  mkdirSync(path.join(lake, 'models', '20261130-000000-000-ts'), { recursive: true });
  return lake;
}

describe('completion of the words typed so far', () => {
  const asked: Array<[string, string | undefined]> = [];
  const values: CompletionValues = {
    hours: async (lake) => (asked.push(['hours', lake]), HOURS),
    runs: async (lake) => (asked.push(['runs', lake]), RUNS),
  };
  const { program } = createProgram();
  const offered = async (...words: string[]) => (await complete(program, words, values)).candidates.map((c) => c.value);

  it('offers the commands, without the hidden one, and narrows them by what is typed', async () => {
    const all = await offered('');
    expect(all).toEqual(expect.arrayContaining(['demo', 'monitor', 'status', 'stream', 'etl', 'query', 'ml', 'report', 'completion']));
    expect(all).not.toContain('__complete');
    expect(await offered('st')).toEqual(['status', 'stream', 'stats']);
    expect(await offered('ml', '')).toEqual(['train', 'evaluate', 'predict']);
  });

  it("offers a command's options and the global ones, with their help text", async () => {
    const options = await complete(program, ['etl', '--'], values);
    const flags = options.candidates.map((c) => c.value);
    expect(flags).toEqual(expect.arrayContaining(['--lake', '--hour', '--from', '--to', '--all', '--engine', '--json', '--help', '--config', '--no-color']));
    expect(flags).not.toContain('--version');
    expect(options.candidates.find((c) => c.value === '--all')?.description).toBe('process every raw hour in the lake');
    expect(await offered('--v')).toEqual(['--version']);
  });

  it('offers the choices of an option or argument', async () => {
    expect(await offered('etl', '--engine', '')).toEqual([...ENGINE_NAMES]);
    expect(await offered('ml', 'train', '--engine', 's')).toEqual(['spark']);
    expect(await offered('query', '--format', '')).toEqual(['table', 'json', 'csv']);
    expect(await offered('completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('offers the hours and run ids of the lake named on the line, or of the configured one', async () => {
    asked.length = 0;
    expect(await offered('etl', '--hour', '2026-11-28')).toEqual(['2026-11-28T06', '2026-11-28T07']);
    expect(await offered('etl', '--lake', '/srv/lake', '--from', '')).toEqual(HOURS);
    expect(await offered('etl', '--lake=s3://b/p', '--to=2026-11-29')).toEqual(['--to=2026-11-29T23']);
    expect(await offered('ml', 'predict', '--run', '')).toEqual(RUNS);
    expect(asked).toEqual([
      ['hours', undefined],
      ['hours', '/srv/lake'],
      ['hours', 's3://b/p'],
      ['runs', undefined],
    ]);
  });

  it('lets the shell complete file names where a path goes, and offers nothing for free text', async () => {
    expect((await complete(program, ['lake', 'import', ''], values)).files).toBe(true);
    expect((await complete(program, ['lake', 'import', 'a.ndjson', 'b'], values)).files).toBe(true);
    expect((await complete(program, ['report', 'build', '--out', ''], values)).files).toBe(true);
    expect((await complete(program, ['--config', ''], values)).files).toBe(true);
    expect(await complete(program, ['query', ''], values)).toEqual({ candidates: [], files: false });
    expect(await complete(program, ['demo', '--rate', ''], values)).toEqual({ candidates: [], files: false });
  });
});

describe('openevents __complete (what the shell scripts call)', () => {
  it('reads hours and finished run ids from a real lake', async () => {
    const lake = lakeWithHoursAndRuns();
    const hours = await runCli(['__complete', '--', 'etl', '--lake', lake, '--hour', '']);
    expect(hours.code, hours.stderr).toBe(0);
    expect(hours.stdout).toBe(HOURS.map((h) => `${h}\traw hour (UTC)\n`).join(''));
    // No --lake on the line: the configured lake.
    const runs = await runCli(['__complete', '--', 'ml', 'evaluate', '--run', ''], { env: { ...process.env, OPENEVENTS_LAKE: lake } });
    expect(runs.stdout).toBe(RUNS.map((r) => `${r}\tmodel run\n`).join(''));
  });

  it('prints nothing, and exits 0, for a lake that does not exist', async () => {
    const out = await runCli(['__complete', '--', 'etl', '--lake', path.join(tmp(), 'missing'), '--hour', '']);
    expect(out).toMatchObject({ code: 0, stdout: '' });
  });

  it('ends with :files where the shell should offer file names', async () => {
    expect((await runCli(['__complete', '--', 'lake', 'import', ''])).stdout).toBe(':files\n');
  });
});

/**
 * The printed scripts in the real shells, with `openevents` on PATH as an installed command would be.
 * Each completes `openevents etl --lake <lake> --hour 2026-11-28` and `openevents ml tr`.
 */
describe('openevents completion <shell>', () => {
  const lake = lakeWithHoursAndRuns();
  const bin = tmp('oe-completion-bin-');
  symlinkSync(OPENEVENTS, path.join(bin, 'openevents'));
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` };
  const script = (shell: string) => execFileSync(process.execPath, [OPENEVENTS, 'completion', shell], { encoding: 'utf8' });
  const shell = (command: string, args: string[], input: string) => execFileSync(command, args, { encoding: 'utf8', env, input, cwd: lake });

  it('bash: offers hours from the lake, subcommands, and file names for a path', () => {
    const program = `${script('bash')}
show() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _openevents; printf '%s\\n' "\${COMPREPLY[@]}" "--"; }
show openevents etl --lake ${lake} --hour 2026-11-28
show openevents ml tr
show openevents lake import ra
complete -p openevents
`;
    const [hours, sub, files, registered] = shell('bash', ['--norc', '--noprofile', '-s'], program).split('--\n');
    expect(hours).toBe('2026-11-28T06\n2026-11-28T07\n');
    expect(sub).toBe('train\n');
    expect(files).toBe('raw\n');
    expect(registered).toContain('-F _openevents openevents');
  });

  describeWith(['fish'], 'fish', () => {
    it('offers hours with their description, and subcommands', () => {
      const out = shell('fish', ['--no-config', '-c', `openevents completion fish | source; complete -C 'openevents etl --lake ${lake} --hour 2026-11-28'; echo SEP; complete -C 'openevents ml tr'`], '');
      const [hours, sub] = out.split('SEP\n');
      expect(hours).toBe('2026-11-28T06\traw hour (UTC)\n2026-11-28T07\traw hour (UTC)\n');
      expect(sub).toBe('train\tTrain a classifier run on the curated tables\n');
    });
  });

  describeWith(['zsh'], 'zsh', () => {
    it('hands hours with their description to _describe, and subcommands', () => {
      // compsys is not loaded in a script: stand-ins for _describe and _files print what they get.
      const program = `compdef() { :; }
${script('zsh')}
_describe() { print -rl -- "\${(@P)4}" --; }
_files() { print -r -- FILES; }
words=(openevents etl --lake ${lake} --hour 2026-11-28T0); CURRENT=6; _openevents
words=(openevents ml tr); CURRENT=3; _openevents
words=(openevents lake import ''); CURRENT=4; _openevents
`;
      expect(shell('zsh', ['-f', '-s'], program)).toBe(
        [
          '2026-11-28T06:raw hour (UTC)',
          '2026-11-28T07:raw hour (UTC)',
          '--',
          'train:Train a classifier run on the curated tables',
          '--',
          'FILES',
          '',
        ].join('\n'),
      );
    });
  });
});
