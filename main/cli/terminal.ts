import { createInterface } from 'node:readline/promises';
import type { GlobalArgs } from './args.js';
import { CliError, ExitCode } from './errors.js';

/*
 * The operator's terminal. Prompts go to stderr so that stdout stays one clean document for scripts;
 * a passphrase is read in raw mode so it is never echoed, and without a terminal nothing is asked:
 * a script must say what it means (environment variables, --yes).
 */

export const hasTerminal = (): boolean => process.stdin.isTTY === true;

function readHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const [index, char] of [...chunk].entries()) {
        if (char === '\r' || char === '\n') {
          finish();
          // typed ahead (a second passphrase, a "yes"): left for the next prompt
          const rest = [...chunk].slice(index + 1).join('');
          if (rest !== '') stdin.unshift(rest);
          return resolve(typed);
        }
        if (char === '\u0003' || char === '\u0004') {
          finish();
          return reject(new CliError(ExitCode.notConfirmed, 'ABORTED', 'aborted at the passphrase prompt'));
        }
        typed = char === '\u007f' || char === '\b' ? typed.slice(0, -1) : typed + char;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * From `variable`, else asked on the terminal (twice when `twice`, for a passphrase being set: a typo
 * there would lock the operator out of the keys).
 */
export async function passphrase(variable: string, what: string, twice = false): Promise<string> {
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!hasTerminal()) throw new CliError(ExitCode.badArguments, 'NO_PASSPHRASE', `no ${what}: set ${variable} or run on a terminal`);
  const typed = await readHidden(`${what}: `);
  if (typed === '') throw new CliError(ExitCode.badArguments, 'NO_PASSPHRASE', `the ${what} must not be empty`);
  if (twice && (await readHidden(`${what} again: `)) !== typed) throw new CliError(ExitCode.badArguments, 'NO_PASSPHRASE', `the two ${what}s differ`);
  return typed;
}

/**
 * `--yes`, or "yes" typed on the terminal. Returns why not, or undefined when confirmed: a refusal is
 * an answer (exit 3) whose document still shows what was refused, not a failure.
 */
export async function confirm(question: string, yes: boolean): Promise<string | undefined> {
  if (yes) return undefined;
  if (!hasTerminal()) return 'not confirmed: no terminal to ask; pass --yes to confirm';
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} Type yes to go ahead: `);
    return answer.trim() === 'yes' ? undefined : 'not confirmed: nothing was done';
  } finally {
    prompt.close();
  }
}

/**
 * What is to be confirmed (a plan, a campaign), then confirm(). In text mode it is part of the output;
 * with --json it is in the document, and on stderr only when a person is asked.
 */
export function showAndConfirm(global: GlobalArgs, shown: string, question: string): Promise<string | undefined> {
  if (!global.json) process.stdout.write(`${shown}\n`);
  else if (!global.yes && hasTerminal()) process.stderr.write(`${shown}\n`);
  return confirm(question, global.yes);
}
