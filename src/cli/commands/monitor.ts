import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `monitor` command(s). Not implemented yet. */
export function registerMonitorCommands(_program: Command, _ctx: CliContext): void {}
