#!/usr/bin/env node
// `npx grepctl …`: runs the TypeScript CLI (main/cli/main.ts) through tsx, from any working directory.
// tsx is resolved from this package, not from where the operator stands; the exit code is passed
// through because scripts branch on it (grepctl --help lists them).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = resolve(dirname(fileURLToPath(import.meta.url)), '../main/cli/main.ts');
const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), entry, ...process.argv.slice(2)], { stdio: 'inherit' });

// Ctrl-C reaches the child through the terminal's process group; this process waits for its answer
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  console.error(`grepctl: cannot start node: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
