/**
 * `npm run console [-- --port N]`: the app in a browser, for machines without the Electron binary and
 * for the e2e tests. Prints the URL with its session token; serves 127.0.0.1 only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { createHandlers } from '../api/handlers.js';
import { startConsole } from './server.js';

const root = join(import.meta.dirname, '../..');
const Args = z
  .object({ port: z.coerce.number().int().min(0).max(65_535).default(0) })
  .strict();

function parse(argv: readonly string[]): z.infer<typeof Args> {
  const raw: Record<string, string> = {};
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index]!;
    const value = argv[index + 1];
    if (!flag.startsWith('--') || value === undefined) throw new Error(`expected --flag value pairs, got ${flag}`);
    raw[flag.slice(2)] = value;
  }
  const parsed = Args.safeParse(raw);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.length ? `--${i.path.join('.')}: ` : ''}${i.message}`).join('\n'));
  return parsed.data;
}

let args: z.infer<typeof Args>;
try {
  args = parse(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\nusage: npm run console -- [--port N]\n`);
  process.exit(2);
}
const staticDir = join(root, 'out/renderer');
if (!existsSync(join(staticDir, 'index.html'))) {
  process.stderr.write('the renderer is not built: run `npm run build` first (npm run console does it for you)\n');
  process.exit(1);
}
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const running = await startConsole({ handlers: createHandlers({ app: { name: pkg.name, version: pkg.version } }), staticDir, port: args.port });
process.stdout.write(`GREP Key Manager console: ${running.url}\n`);
const stop = () => void running.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
