import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `stream` command(s). Not implemented yet. */
export function registerStreamCommands(_program: Command, _ctx: CliContext): void {}
