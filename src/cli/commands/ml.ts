import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `ml` command(s). Not implemented yet. */
export function registerMlCommands(_program: Command, _ctx: CliContext): void {}
