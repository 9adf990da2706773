import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Before the e2e files: clears last run's screenshots, and builds the renderer once (electron-vite
 * build, ~2 s) so they test what ships. GREP_E2E_SKIP_BUILD=1 reuses out/ when iterating on tests.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '../..');
  rmSync(join(root, 'test/e2e/screenshots'), { recursive: true, force: true });
  if (process.env.GREP_E2E_SKIP_BUILD === '1') return;
  execFileSync(join(root, 'node_modules/.bin/electron-vite'), ['build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
}
