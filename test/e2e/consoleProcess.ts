import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT } from './browser.js';

export interface RunningConsoleProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly stop: () => Promise<void>;
}

/**
 * `npm run console` minus its build step (the e2e global setup built the renderer): node with tsx's
 * loader in one process, in its own process group so stop() ends it and anything it started.
 */
export async function startConsoleProcess(args: readonly string[], timeoutMs = 90_000): Promise<RunningConsoleProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'main/console/main.ts', ...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5000));
    if ((await Promise.race([exited, timer])) === 'late') {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone between the two signals */
      }
      await exited;
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`the console printed no URL within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const look = () => {
      const match = /GREP Key Manager console: (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the console exited (${code ?? signal}) before printing its URL:\n${output}`));
    });
  });
  return { url, child, output: () => output, stop };
}
