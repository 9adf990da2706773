import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { waitFor } from './net.js';

export interface SimProcess {
  readonly child: ChildProcess;
  readonly output: string[];
  /** the TCP port it listens on, when given --tcp */
  readonly port: number | undefined;
  stop(): Promise<void>;
}

/** `npm run sim` as a real child process, as an operator would start it. */
export async function startSimProcess(args: string[]): Promise<SimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../sim/main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  child.stderr!.on('data', (chunk: Buffer) => output.push(...chunk.toString().split('\n').filter(Boolean)));
  await waitFor('the simulator to start', () => output.some((line) => line.startsWith('simulated DC')) || child.exitCode !== null, 20_000);
  if (child.exitCode !== null) throw new Error(`simulator exited ${child.exitCode}: ${output.join('\n')}`);
  const port = output.map((line) => /tcp [^:]+:(\d+)/.exec(line)?.[1]).find(Boolean);
  return {
    child,
    output,
    port: port ? Number(port) : undefined,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
