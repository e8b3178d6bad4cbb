import type { Command, CommanderError } from 'commander';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.ts';
import { runCli } from '../helpers/cli.ts';

/** Every command of the program, with its path ('openevents etl'), hidden ones left out. */
function commands(program: Command): Array<{ path: string; command: Command }> {
  const out: Array<{ path: string; command: Command }> = [];
  const walk = (command: Command, path: string): void => {
    out.push({ path, command });
    for (const sub of command.createHelp().visibleCommands(command)) {
      if (sub.name() !== 'help') walk(sub, `${path} ${sub.name()}`);
    }
  };
  walk(program, 'openevents');
  return out;
}

/** The lines of a help text's section ('Commands:', 'Options:'), up to the next blank line. */
function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(title);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

describe('help text', () => {
  const { program } = createProgram();
  const all = commands(program);

  it('lists each command on one line in 80 columns: a capitalised summary without a closing period', () => {
    for (const { path, command } of all) {
      const lines = section(command.helpInformation(), 'Commands:');
      for (const line of lines) {
        // A line that starts with spaces only is a wrapped summary.
        expect(line, `${path}: "${line}"`).toMatch(/^ {2}\S/);
        const summary = line.trim().split(/\s{2,}/)[1] ?? '';
        expect(summary, `${path}: ${line}`).toMatch(/^[A-Z]/);
        expect(summary, `${path}: ${line}`).not.toMatch(/\.$/);
      }
    }
  });

  it('describes every command and argument, and every option in lower case without a closing period', () => {
    for (const { path, command } of all) {
      expect(command === program || command.description().length > 0, path).toBe(true);
      for (const argument of command.registeredArguments) expect(argument.description, `${path} <${argument.name()}>`).not.toBe('');
      for (const option of command.options) {
        // Lower case, unless the first word is an acronym (S3, SQL); '... ' continues the option before.
        expect(option.description, `${path} ${option.flags}`).toMatch(/^(\.\.\. )?([a-z]|[A-Z0-9]{2,}\b)/);
        expect(option.description, `${path} ${option.flags}`).not.toMatch(/\.$/);
      }
    }
  });

  it('answers --help for every command with exit 0 and a usage line', async () => {
    for (const { path } of all) {
      let out = '';
      const sink = new Writable({ write: (chunk, _encoding, done) => void ((out += String(chunk)), done()) });
      const { program: fresh } = createProgram({ stdout: sink, stderr: sink });
      for (const { command } of commands(fresh)) command.exitOverride();
      const args = [...path.split(' ').slice(1), '--help'];
      const ended = await fresh.parseAsync(args, { from: 'user' }).then(
        () => undefined,
        (error: CommanderError) => error,
      );
      expect(ended?.exitCode, path).toBe(0);
      expect(out.startsWith(`Usage: ${path}`), `${path}: ${out.slice(0, 80)}`).toBe(true);
    }
  });

  it('exits 1 with the usage hint on an unknown command or option', async () => {
    const unknown = await runCli(['etll']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown command 'etll'/);
    const option = await runCli(['etl', '--hours', 'x']);
    expect(option.code).toBe(1);
    expect(option.stderr).toMatch(/unknown option '--hours'[\s\S]*--help/);
  });
});
