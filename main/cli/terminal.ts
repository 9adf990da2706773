import { createInterface } from 'node:readline/promises';
import { newPassphraseRefusal } from '../store/passphrase.js';
import { escapeControl } from '../text/escape.js';
import type { GlobalArgs } from './args.js';
import { CliError, ExitCode } from './errors.js';

/*
 * The operator's terminal. Prompts go to stderr so that stdout stays one clean document for scripts;
 * a passphrase is read in raw mode so it is never echoed, and without a terminal nothing is asked:
 * a script must say what it means (environment variables, --yes).
 */

export const hasTerminal = (): boolean => process.stdin.isTTY === true;

/*
 * What grepctl prints carries strings it did not choose: serials and models from a CSV, manifest
 * fields from a vendor, names from the store, reasons from a DC's error frames. The builders escape
 * those fields (so none can forge a line either); everything written to the terminal passes through
 * here as well, so a field a builder missed still cannot repaint the screen.
 */

/** `text` with every control character escaped (main/text/escape.ts) except the line breaks between its lines. */
export const forTerminal = (text: string): string => text.split('\n').map(escapeControl).join('\n');

/**
 * The --json document. JSON.stringify escapes C0 controls but leaves DEL, C1 (xterm takes U+009B as
 * CSI) and bidi controls raw; as \uXXXX escapes they parse back to the very same strings.
 */
export function terminalJson(document: unknown): string {
  return JSON.stringify(document, null, 2).replace(/[^\x00-\x7e]/g, (char) => (escapeControl(char) === char ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

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
 * From `variable`, else asked on the terminal. `setting` marks a passphrase being set: it must pass the
 * one passphrase rule (store/passphrase.ts, as the console's gate), and is asked twice, since a typo
 * there would lock the operator out of the keys.
 */
export async function passphrase(variable: string, what: string, setting = false): Promise<string> {
  const refuseWeak = (secret: string) => {
    const refusal = setting ? newPassphraseRefusal(secret) : undefined;
    if (refusal) throw new CliError(ExitCode.badArguments, 'WEAK_PASSPHRASE', `the ${what} (${variable}) ${refusal}`);
    return secret;
  };
  const fromEnv = process.env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return refuseWeak(fromEnv);
  if (!hasTerminal()) throw new CliError(ExitCode.badArguments, 'NO_PASSPHRASE', `no ${what}: set ${variable} or run on a terminal`);
  const typed = await readHidden(`${what}: `);
  if (typed === '') throw new CliError(ExitCode.badArguments, 'NO_PASSPHRASE', `the ${what} must not be empty`);
  refuseWeak(typed);
  if (setting && (await readHidden(`${what} again: `)) !== typed) throw new CliError(ExitCode.badArguments, 'NO_PASSPHRASE', `the two ${what}s differ`);
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
    const answer = await prompt.question(`${forTerminal(question)} Type yes to go ahead: `);
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
  if (!global.json) process.stdout.write(`${forTerminal(shown)}\n`);
  else if (!global.yes && hasTerminal()) process.stderr.write(`${forTerminal(shown)}\n`);
  return confirm(question, global.yes);
}
