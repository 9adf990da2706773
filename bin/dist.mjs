#!/usr/bin/env node
// `npm run dist [-- <electron-builder flags>]`: the installable desktop app, for the platform this
// runs on. Builds with electron-vite, rebuilds the native modules (better-sqlite3) for Electron's
// ABI, runs electron-builder (electron-builder.yml, fuses flipped by build/afterPack.mjs), then
// rebuilds the native modules for Node again: the console, grepctl and the tests share node_modules
// with the app and would otherwise fail to load better-sqlite3 until the next `npm ci`.
//
// electron-builder.yml packages the installed Electron (electronDist), so the version shipped is the
// one tested; without it there is nothing to package, and that is said in one line.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from './electronBinary.mjs';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_MODULES = ['better-sqlite3'];

/** Runs one step in the project folder, output to the terminal; the step's exit code, 1 when it did not start. */
function run(command, args) {
  // npx and npm are .cmd scripts on Windows, which only a shell runs
  const result = spawnSync(command, args, { cwd: appDir, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) console.error(`npm run dist: cannot run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

function failed(step, code) {
  console.error(`npm run dist: ${step} failed (exit ${code})`);
  process.exit(code);
}

if ((await electronBinary()) === undefined) {
  console.error('npm run dist: the Electron binary is not installed (no network to fetch it): packaging needs it; run on a machine with internet');
  process.exit(1);
}

let code = run('npx', ['electron-vite', 'build']);
if (code !== 0) failed('electron-vite build', code);
let step = 'electron-builder install-app-deps';
code = run('npx', ['electron-builder', 'install-app-deps']);
if (code === 0) {
  step = 'electron-builder';
  code = run('npx', ['electron-builder', '--config', 'electron-builder.yml', ...process.argv.slice(2)]);
}
const packaged = code;
// whether packaging worked or not, node_modules goes back to Node's ABI
code = run('npm', ['rebuild', ...NATIVE_MODULES]);
if (packaged !== 0) failed(step, packaged);
if (code !== 0) failed('npm rebuild (back to Node for the console, grepctl and the tests)', code);
