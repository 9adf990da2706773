/**
 * `npm run console -- [--port N] [--data <dir>] [--meters N] [--loss p] [--passphrase-file <file>]`
 * or `… --dc tcp:host:port|serial:/dev/ttyX [--baud n] --pairing-key <key file>`: the app in a browser,
 * for machines without the Electron binary and for the e2e tests. Without --dc it runs the embedded
 * simulated DC. Prints the URL with its session token; serves 127.0.0.1 only.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { createHandlers } from '../api/handlers.js';
import { Backend } from '../app/backend.js';
import { parseConsoleArgs } from './args.js';
import { startConsole } from './server.js';

const root = join(import.meta.dirname, '../..');
const USAGE =
  'usage: npm run console -- [--port N] [--data <dir>] [--passphrase-file <file>]\n' +
  '         [--meters N] [--loss p]                                    (embedded simulated DC)\n' +
  '         [--dc tcp:host:port | serial:/dev/ttyX [--baud n] --pairing-key <key file>] (a real DC)';

const defaultDataDir = () => join(process.env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'grep-km');

let args: ReturnType<typeof parseConsoleArgs>;
try {
  args = parseConsoleArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const staticDir = join(root, 'out/renderer');
try {
  readFileSync(join(staticDir, 'index.html'));
} catch {
  process.stderr.write('the renderer is not built: run `npm run build` first (npm run console does it for you)\n');
  process.exit(1);
}
const dataDir = args.data ?? defaultDataDir();
mkdirSync(dataDir, { recursive: true, mode: 0o700 });

const backend = new Backend({
  dataDir,
  actor: `${userInfo().username}@${hostname()} (console)`,
  simulated: args.dc ? undefined : { meters: args.meters, loss: args.loss },
  dc: args.dc,
});
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const running = await startConsole({
  handlers: createHandlers({ app: { name: pkg.name, version: pkg.version }, backend }),
  subscribe: (listener) => backend.subscribe(listener),
  staticDir,
  port: args.port,
});

let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  void Promise.allSettled([running.close(), backend.close()]).then(() => process.exit(code));
};
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));

let unlocked = true;
if (args.passphrase !== undefined) {
  try {
    const session = await backend.unlock(args.passphrase);
    process.stdout.write(`store ${session.storePath} unlocked${session.simulated ? ', embedded simulated DC running' : ''}\n`);
  } catch (error) {
    process.stderr.write(`--passphrase-file: ${(error as Error).message}\n`);
    unlocked = false;
    stop(1);
  }
}
if (unlocked) process.stdout.write(`GREP Key Manager console: ${running.url}\n`);
