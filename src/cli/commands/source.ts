import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `source` command(s). Not implemented yet. */
export function registerSourceCommands(_program: Command, _ctx: CliContext): void {}
