/**
 * `npm run crashtest -- --crashes 200 [--operations N] [--meters N] [--seed N] [--json]`: the crash-safety
 * run at scale (see test/support/crashRun.ts). Prints {"crashes", "operations", "lost", "desynced", …}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs } from '../bench/report.js';
import { crashRun } from './support/crashRun.js';

const args = parseBenchArgs(process.argv.slice(2), {
  flags: {
    crashes: { value: 50, min: 1, max: 10_000, integer: true },
    operations: { value: 0, min: 0, max: 100_000, integer: true },
    meters: { value: 0, min: 0, max: 5_000, integer: true },
    seed: { value: 1, min: 0, max: 0xffffffff, integer: true },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'grep-crashtest-'));
try {
  const { crashes, seed } = args.flags;
  // enough operations that the kills land mid-sequence: a run completes one or two before its kill
  const operations = args.flags.operations || crashes + 30;
  // the sequence removes three meters every four operations (kmProcess.ts): the group must outlast it
  const meters = args.flags.meters || Math.ceil(operations * 0.8) + 10;
  const result = await crashRun({ dir, crashes, operations, meters, seed });
  process.stdout.write(args.json ? `${JSON.stringify(result)}\n` : `${Object.entries(result).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`);
  process.exitCode = result.lost === 0 && result.desynced === 0 && result.auditOk && result.historyChained ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
