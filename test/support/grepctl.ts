import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';

/** grepctl as an operator runs it: a real child process on a store file in the test's folder. */

export const PASSPHRASE = 'correct horse battery staple';
export const PAIRING_KEY = '00112233445566778899aabbccddeeff';
const CLI = join(import.meta.dirname, '../../main/cli/main.ts');

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `dir()` is read at each call: the folder is made in beforeAll, after the runner is. */
export function grepctlIn(dir: () => string) {
  /** every stdout and stderr so far, for the tests that nothing secret was ever printed */
  const outputs: string[] = [];

  /** The running child too, for the tests that signal it or watch its progress. */
  function start(args: readonly string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { ...process.env, GREP_PASSPHRASE: PASSPHRASE, GREP_DB: join(dir(), 'km.db'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = { stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    const done = new Promise<Run>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        outputs.push(run.stdout, run.stderr);
        resolve({ code, ...run });
      });
    });
    return { child, run, done };
  }

  const grepctl = (args: readonly string[], env: Record<string, string> = {}): Promise<Run> => start(args, env).done;

  /** Runs with --json and expects `code`; returns the document. */
  async function json(args: readonly string[], code = 0, env: Record<string, string> = {}): Promise<any> {
    const run = await grepctl([...args, '--json'], env);
    expect(run.code, `grepctl ${args.join(' ')}: ${run.stderr}`).toBe(code);
    return JSON.parse(run.stdout);
  }

  return { outputs, start, grepctl, json };
}
