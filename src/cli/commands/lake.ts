import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `lake` command(s). Not implemented yet. */
export function registerLakeCommands(_program: Command, _ctx: CliContext): void {}
