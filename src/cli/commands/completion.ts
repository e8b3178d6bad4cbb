import { Argument, type Command } from 'commander';
import type { Completion, CompletionValues } from '../complete.ts';
import { println, type CliContext } from '../context.ts';

/** The hidden command the shell scripts call on each Tab: `openevents __complete -- <words…>`. */
export const COMPLETE_COMMAND = '__complete';
/** The last line of __complete's output when the shell should offer file names too. */
export const FILES_DIRECTIVE = ':files';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

/** Registers `completion <shell>` and the hidden `__complete` that its scripts call. */
export function registerCompletionCommands(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .summary('Print the shell completion script (bash, zsh, fish)')
    .description('Print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      `
Completes commands, options, option choices, file names, and the hours and model run ids of the
lake (--lake on the line, else the configured one). Load it in the current shell, or install it:
  bash  source <(openevents completion bash)    or  openevents completion bash > ~/.local/share/bash-completion/completions/openevents
  zsh   source <(openevents completion zsh)     or  openevents completion zsh > "\${fpath[1]}/_openevents"   (after compinit)
  fish  openevents completion fish | source     or  openevents completion fish > ~/.config/fish/completions/openevents.fish`,
    )
    .action((shell: Shell) => {
      ctx.stdout.write(SCRIPTS[shell]);
    });

  program
    .command(COMPLETE_COMMAND, { hidden: true })
    .description('Print the completions of the words after it, one per line (value, tab, description)')
    .argument('[words...]', 'the words typed after `openevents`, the last being the one to complete')
    .helpOption(false)
    .action(async (words: string[]) => {
      const { complete } = await import('../complete.ts');
      const completion = await complete(program, words.length > 0 ? words : [''], lakeValues(ctx));
      printCompletion(ctx, completion);
    });
}

function printCompletion(ctx: CliContext, completion: Completion): void {
  for (const c of completion.candidates) println(ctx.stdout, c.description ? `${c.value}\t${c.description}` : c.value);
  if (completion.files) println(ctx.stdout, FILES_DIRECTIVE);
}

/** Hours and run ids from the lake; nothing (never an error) when the lake cannot be read in time. */
function lakeValues(ctx: CliContext): CompletionValues {
  const read = async <T>(lake: string | undefined, list: (store: import('../../lake/store.ts').ObjectStore) => Promise<T[]>): Promise<T[]> => {
    try {
      const store = await ctx.runtime(ctx.config(lake ? { lake } : {})).lake();
      const timeout = new Promise<T[]>((resolve) => setTimeout(() => resolve([]), 2_000).unref());
      return await Promise.race([list(store), timeout]);
    } catch {
      return [];
    }
  };
  return {
    hours: (lake) => read(lake, async (store) => [...(await (await import('../../lake/hours.ts')).rawObjectsByHour(store)).keys()].sort()),
    runs: (lake) => read(lake, async (store) => (await import('../../ml/runs.ts')).listRuns(store)),
  };
}

// The scripts hand every word up to the cursor to `openevents __complete` and offer what it prints.
const BASH = `# openevents completion for bash
# source <(openevents completion bash), or save as ~/.local/share/bash-completion/completions/openevents
_openevents() {
  local cur=\${COMP_WORDS[COMP_CWORD]} line files=0
  local -a lines values=()
  mapfile -t lines < <(openevents ${COMPLETE_COMMAND} -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  for line in "\${lines[@]}"; do
    if [[ $line == "${FILES_DIRECTIVE}" ]]; then files=1; elif [[ -n $line ]]; then values+=("\${line%%$'\\t'*}"); fi
  done
  COMPREPLY=("\${values[@]}")
  if (( files )); then
    local IFS=$'\\n'
    COMPREPLY+=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
  fi
}
complete -F _openevents openevents
`;

const ZSH = `#compdef openevents
# openevents completion for zsh
# source <(openevents completion zsh) after compinit, or save as _openevents in a folder of $fpath
_openevents() {
  local line files=0
  local -a values
  for line in "\${(@f)$(openevents ${COMPLETE_COMMAND} -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}"; do
    if [[ $line == "${FILES_DIRECTIVE}" ]]; then files=1
    elif [[ $line == *$'\\t'* ]]; then values+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    elif [[ -n $line ]]; then values+=("\${line//:/\\\\:}")
    fi
  done
  (( \${#values} )) && _describe -t values openevents values
  (( files )) && _files
  return 0
}
if [[ $funcstack[1] == _openevents ]]; then _openevents "$@"; else compdef _openevents openevents; fi
`;

const FISH = `# openevents completion for fish
# openevents completion fish | source, or save as ~/.config/fish/completions/openevents.fish
function __openevents_complete
    set -l words (commandline -opc)[2..-1] (commandline -ct)
    for line in (openevents ${COMPLETE_COMMAND} -- $words 2>/dev/null)
        if test "$line" = "${FILES_DIRECTIVE}"
            __fish_complete_path (commandline -ct)
        else
            echo $line
        end
    end
end
complete -c openevents -f -a '(__openevents_complete)'
`;

const SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };
