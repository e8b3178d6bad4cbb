import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `query` command(s). Not implemented yet. */
export function registerQueryCommands(_program: Command, _ctx: CliContext): void {}
