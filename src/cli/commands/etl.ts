import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `etl` command(s). Not implemented yet. */
export function registerEtlCommands(_program: Command, _ctx: CliContext): void {}
