/**
 * `grepctl`: the Key Manager from a shell, every operation of the UI with a plan to confirm and a
 * --json document for scripts. `grepctl --help` lists the subcommands and the exit codes.
 */
import { escapeControl } from '../text/escape.js';
import { backupCommands } from './backup.js';
import { check, GLOBAL_HELP, GLOBAL_OPTIONS, GlobalArgs, splitArgv } from './args.js';
import { CliError, classify, EXIT_CODE_HELP, ExitCode } from './errors.js';
import { firmwareCommands } from './firmware.js';
import { groupCommands } from './groupCommand.js';
import { inspectCommands } from './inspect.js';
import { operationCommands } from './operations.js';
import { setupCommands } from './setup.js';
import type { Subcommand } from './spec.js';
import { forTerminal, terminalJson } from './terminal.js';

const SUBCOMMANDS: readonly Subcommand[] = [...setupCommands, ...operationCommands, ...groupCommands, ...inspectCommands, ...backupCommands, ...firmwareCommands];

const usageOf = (command: Subcommand) => `grepctl ${command.words.join(' ')} ${command.usage}`.trimEnd();

function help(): string {
  const lines = SUBCOMMANDS.map((command) => `  ${usageOf(command)}\n      ${command.summary}`);
  return `grepctl: the GREP Key Manager from the command line\n\nsubcommands:\n${lines.join('\n')}\n\n${GLOBAL_HELP}\n\n${EXIT_CODE_HELP}\n`;
}

/** The subcommand and the rest of the line; global options may stand before the subcommand too. */
function find(argv: readonly string[]): { command: Subcommand; rest: string[] } | undefined {
  let at = 0;
  while (argv[at]?.startsWith('-')) {
    const option = GLOBAL_OPTIONS[argv[at]!.replace(/^--?/, '') as keyof typeof GLOBAL_OPTIONS];
    at += option?.type === 'string' ? 2 : 1;
  }
  const command = SUBCOMMANDS.find((candidate) => candidate.words.every((word, index) => argv[at + index] === word));
  return command && { command, rest: [...argv.slice(0, at), ...argv.slice(at + command.words.length)] };
}

async function main(argv: readonly string[]): Promise<number> {
  const found = find(argv);
  const wantsJson = argv.includes('--json');
  try {
    if (!found) {
      if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
        process.stdout.write(help());
        return ExitCode.ok;
      }
      process.stderr.write(help());
      throw new CliError(ExitCode.badArguments, 'UNKNOWN_SUBCOMMAND', `unknown subcommand ${JSON.stringify(argv.filter((arg) => !arg.startsWith('-')).slice(0, 2).join(' '))}: see the list above`);
    }
    const { command, rest } = found;
    const raw = splitArgv(rest, { ...GLOBAL_OPTIONS, ...command.options });
    const global = check(GlobalArgs, Object.fromEntries(Object.keys(GLOBAL_OPTIONS).map((key) => [key, raw.values[key]])));
    if (global.help) {
      process.stdout.write(`usage: ${usageOf(command)} [global options]\n${command.summary}\n\n${GLOBAL_HELP}\n\n${EXIT_CODE_HELP}\n`);
      return ExitCode.ok;
    }
    const outcome = await command.invoke(raw, global);
    const exitCode = outcome.exitCode ?? ExitCode.ok;
    process.stdout.write(global.json ? `${terminalJson({ ok: exitCode === ExitCode.ok, ...outcome.json })}\n` : `${forTerminal(outcome.text)}\n`);
    return exitCode;
  } catch (error) {
    const { exitCode, code, message } = classify(error);
    if (wantsJson) process.stdout.write(`${terminalJson({ ok: false, exitCode, error: { code, message } })}\n`);
    // one line, whatever a quoted path or DC reason holds: a line break in it must not forge another
    process.stderr.write(`grepctl: ${escapeControl(message)}\n`);
    if (exitCode === ExitCode.badArguments && found) process.stderr.write(`usage: ${usageOf(found.command)} [global options]   (grepctl --help for all)\n`);
    return exitCode;
  }
}

// exit explicitly: a link still retrying or a convergence cut short by --timeout must not keep the process alive
process.exit(await main(process.argv.slice(2)));
