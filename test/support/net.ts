import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Polls until `done` holds; the deadline keeps a broken link from hanging the suite. */
export async function waitFor(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A fresh socat PTY pair on fixed link paths ttyA/ttyB in `dir`; stopped by its pid. */
export async function startPtyPair(dir: string): Promise<ChildProcess> {
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await waitFor('socat links', () => existsSync(a) && existsSync(b), 5_000);
  return socat;
}

export async function stopPtyPair(socat: ChildProcess): Promise<void> {
  if (socat.exitCode !== null || socat.signalCode !== null) return;
  const exited = once(socat, 'exit');
  process.kill(socat.pid!, 'SIGTERM');
  await exited;
}
