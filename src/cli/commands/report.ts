import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `report` command(s). Not implemented yet. */
export function registerReportCommands(_program: Command, _ctx: CliContext): void {}
