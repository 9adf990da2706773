#!/usr/bin/env node
// Launches the built desktop app (out/) in Electron: `npm start` builds first, then runs this.
//
// The `electron` npm package fetches its binary lazily, the first time it is required. It does so
// loudly (its own banner plus a stack trace when offline), so this script does the fetch itself with
// the output captured, and reports a missing binary as one line pointing at the browser console.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const NOT_INSTALLED =
  "Electron's binary is not installed on this machine (it is fetched on first run and needs internet); " +
  'run `npm run console` for the same app in a browser.';
const FETCH_NOTICE_AFTER_MS = 2_000;

function notInstalled() {
  console.error(NOT_INSTALLED);
  process.exit(1);
}

/** Where electron/index.js will look for the binary, worked out without its download side effect. */
function expectedBinary(packageDir) {
  let relative;
  try {
    relative = readFileSync(join(packageDir, 'path.txt'), 'utf8');
  } catch {
    relative = undefined; // written by the installer once the binary is there
  }
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (distDir) return join(distDir, relative || 'electron');
  return relative ? join(packageDir, 'dist', relative) : undefined;
}

/** Runs the package's own installer quietly; resolves true when it succeeded. */
function fetchBinary(packageDir) {
  return new Promise((done) => {
    const installer = spawn(process.execPath, [join(packageDir, 'install.js')], {
      cwd: packageDir,
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    // Offline this fails in well under a second; only a real download is worth a word.
    const notice = setTimeout(() => console.error("Fetching Electron's binary (first run)..."), FETCH_NOTICE_AFTER_MS);
    const finish = (ok) => {
      clearTimeout(notice);
      done(ok);
    };
    installer.once('error', () => finish(false));
    installer.once('exit', (code) => finish(code === 0));
  });
}

async function electronBinary() {
  let packageDir;
  try {
    packageDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return undefined; // the package itself is absent (npm install not run)
  }
  const expected = expectedBinary(packageDir);
  if (expected === undefined || !existsSync(expected)) {
    if (!(await fetchBinary(packageDir))) return undefined;
  }
  try {
    const binary = require('electron'); // the package's export: the binary's path
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
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
