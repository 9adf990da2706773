// Where the installed `electron` package's binary is, fetching it first if it is missing; shared by
// `npm start` (bin/start.mjs) and `npm run dist` (bin/dist.mjs), which both need the real binary.
//
// The `electron` npm package fetches its binary lazily, the first time it is required. It does so
// loudly (its own banner plus a stack trace when offline), so this does the fetch itself with the
// output captured, and lets the caller report a missing binary as one line of its own.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const FETCH_NOTICE_AFTER_MS = 2_000;

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

/** The binary's path, or undefined when it is not installed and cannot be fetched. */
export async function electronBinary() {
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
