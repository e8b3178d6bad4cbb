import type { Command, Option } from 'commander';

/** One thing the shell can offer, with what it is (zsh and fish show it beside the value). */
export interface Candidate {
  value: string;
  description?: string;
}

/** What to offer for the word under the cursor. */
export interface Completion {
  candidates: Candidate[];
  /** Let the shell offer file and folder names too (an option or argument that takes a path). */
  files: boolean;
}

/** Values that live in the lake: read only when the word being completed asks for them. */
export interface CompletionValues {
  /** Raw hours (YYYY-MM-DDTHH) of the lake, oldest first. */
  hours(lake: string | undefined): Promise<string[]>;
  /** Model run ids of the lake, oldest first. */
  runs(lake: string | undefined): Promise<string[]>;
}

/** Kinds of value an option or argument takes, from its placeholder: `<YYYY-MM-DDTHH>`, `<id>`, `<dir>`… */
type ValueKind = 'hour' | 'run' | 'path' | 'other';

/**
 * What to offer after `openevents <words>`, where the last word is the one being typed (empty for
 * a new word). Walks the program's commands as commander would parse them; offers subcommands,
 * the options visible in --help (the command's and the global ones), an option's choices, hours
 * and run ids from the lake (`--lake` among the words, else the configured lake), or file names.
 */
export async function complete(program: Command, words: readonly string[], values: CompletionValues): Promise<Completion> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  let command = program;
  let lake: string | undefined;
  let expecting: Option | undefined;
  let positionals = 0;
  for (const word of before) {
    if (expecting) {
      if (expecting.long === '--lake') lake = word;
      expecting = undefined;
    } else if (word.startsWith('-') && word !== '-') {
      const [flag, inline] = splitInline(word);
      const option = findOption(command, program, flag);
      if (option?.long === '--lake' && inline !== undefined) lake = inline;
      if (option && takesValue(option) && inline === undefined) expecting = option;
    } else {
      const sub = positionals === 0 ? findCommand(command, word) : undefined;
      if (sub) command = sub;
      else positionals += 1;
    }
  }

  const offer = (candidates: Candidate[], files = false): Completion => ({
    candidates: candidates.filter((c) => c.value.startsWith(current)),
    files,
  });
  if (expecting) return offer(...(await valuesFor(expecting, lake, values)));
  if (current.startsWith('-')) {
    const [flag, inline] = splitInline(current);
    const option = inline === undefined ? undefined : findOption(command, program, flag);
    if (option && inline !== undefined) {
      // --hour=2026-… : complete the value, keeping the flag in front of it.
      const [candidates] = await valuesFor(option, lake, values);
      return offer(candidates.map((c) => ({ ...c, value: `${flag}=${c.value}` })));
    }
    return offer(optionsOf(command, program));
  }
  const help = command.createHelp();
  const subcommands = help.visibleCommands(command).filter((c) => c.name() !== 'help');
  if (subcommands.length > 0 && positionals === 0) {
    return offer(subcommands.map((c) => ({ value: c.name(), description: firstLine(c.summary() || c.description()) })));
  }
  // The argument at this position (a variadic last one takes every further word).
  const argument = command.registeredArguments[Math.min(positionals, command.registeredArguments.length - 1)];
  if (argument?.argChoices) return offer(argument.argChoices.map((value) => ({ value })));
  return offer([], argument !== undefined && kindOf(argument.name()) === 'path');
}

/** The options to offer in `command`: its own and the global ones shown in --help. */
function optionsOf(command: Command, program: Command): Candidate[] {
  const help = command.createHelp();
  const options = [...help.visibleOptions(command), ...(command === program ? [] : help.visibleOptions(program))];
  const seen = new Set<string>();
  const out: Candidate[] = [];
  for (const option of options) {
    const flag = option.long ?? option.short;
    if (!flag || seen.has(flag) || (command !== program && flag === '--version')) continue;
    seen.add(flag);
    out.push({ value: flag, description: firstLine(option.description) });
  }
  return out;
}

async function valuesFor(option: Option, lake: string | undefined, values: CompletionValues): Promise<[Candidate[], boolean]> {
  if (option.argChoices) return [option.argChoices.map((value) => ({ value })), false];
  const placeholder = /<([^>]+)>|\[([^\]]+)\]/.exec(option.flags);
  const name = placeholder?.[1] ?? placeholder?.[2] ?? '';
  // A placeholder listing its words (`<ts|spark>`) is a choice too.
  if (/^[a-z]+(\|[a-z]+)+$/.test(name)) return [name.split('|').map((value) => ({ value })), false];
  switch (kindOf(name)) {
    case 'hour':
      return [(await values.hours(lake)).map((value) => ({ value, description: 'raw hour (UTC)' })), false];
    case 'run':
      return [(await values.runs(lake)).map((value) => ({ value, description: 'model run' })), false];
    case 'path':
      return [[], true];
    default:
      return [[], false];
  }
}

function kindOf(placeholder: string): ValueKind {
  if (/YYYY/.test(placeholder)) return 'hour';
  if (placeholder === 'id') return 'run';
  if (/^(dir|file|location)\b|^file\.\.\.$/.test(placeholder)) return 'path';
  return 'other';
}

function findCommand(command: Command, name: string): Command | undefined {
  return command.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

function findOption(command: Command, program: Command, flag: string): Option | undefined {
  const match = (o: Option): boolean => o.long === flag || o.short === flag;
  return command.options.find(match) ?? program.options.find(match);
}

function takesValue(option: Option): boolean {
  return option.required || option.optional;
}

function splitInline(word: string): [string, string | undefined] {
  const eq = word.indexOf('=');
  return word.startsWith('--') && eq > 0 ? [word.slice(0, eq), word.slice(eq + 1)] : [word, undefined];
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.replace(/\.$/, '');
}
