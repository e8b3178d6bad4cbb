import type { Command } from 'commander';
import type { CliContext } from '../context.ts';

/** Registers the `demo` command(s). Not implemented yet. */
export function registerDemoCommands(_program: Command, _ctx: CliContext): void {}
