#!/usr/bin/env node
// Launches the built desktop app (out/) in Electron: `npm start` builds first, then runs this.
// A missing Electron binary (fetched on first run, which needs internet) is one line pointing at
// the browser console.
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electronBinary.mjs';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const NOT_INSTALLED =
  "Electron's binary is not installed on this machine (it is fetched on first run and needs internet); " +
  'run `npm run console` for the same app in a browser.';

function notInstalled() {
  console.error(NOT_INSTALLED);
  process.exit(1);
}

const binary = await electronBinary();
if (binary === undefined) notInstalled();

const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE; // set, it would make the binary behave as plain Node

const child = spawn(binary, [appDir, ...process.argv.slice(2)], { stdio: 'inherit', env, windowsHide: false });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.once('error', (error) => {
  console.error(`Could not start Electron (${binary}): ${error.message}`);
  process.exit(1);
});
child.once('exit', (code, signal) => {
  if (code === null) {
    console.error(`Electron exited on ${signal}`);
    process.exit(1);
  }
  process.exit(code);
});
