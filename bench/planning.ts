/**
 * How long the Key Manager takes to plan the commissioning of a CSV, and how long its event loop is held
 * meanwhile: `npm run bench:planning -- [--sizes 10000,30000,100000] [--planned 10000]`. One JSON line
 * per size: lines, ms (planCommissionCsv, the plan and audit rows saved included), maxGapMs (the longest
 * a 10 ms timer waited meanwhile; the DC link's keep-alives wait as long) and ticks. The group is planned
 * for --planned meters (its subgroup cap) and empty; nothing is executed.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto } from '../main/crypto/node.js';
import type { DcLink } from '../main/link/client.js';
import { KeyManagerService } from '../main/ops/service.js';
import { KmStore } from '../main/store/index.js';
import { commissioningCsv, meterProfiles } from '../sim/fleet.js';
import { watchEventLoop } from '../test/support/eventLoop.js';
import { parseBenchArgs } from './report.js';

const args = parseBenchArgs(process.argv.slice(2), {
  sizes: [10_000, 30_000, 100_000],
  flags: { planned: { value: 10_000, min: 1, max: 10_000_000, integer: true } },
});

for (const lines of args.sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'grep-bench-planning-'));
  const store = KmStore.create(join(dir, 'km.db'), 'bench passphrase');
  try {
    KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: args.flags.planned }, 'bench');
    // planning sends nothing: a link that never comes up
    const service = KeyManagerService.open({ store, group: 'dc-1', actor: 'bench', link: Object.assign(new EventEmitter(), { state: { state: 'stopped' } }) as unknown as DcLink });
    const csv = commissioningCsv(meterProfiles(1, Array.from({ length: lines }, (_, index) => index + 1), nodeCrypto));
    const { result: plan, ms, ticks, maxGapMs } = await watchEventLoop(async () => service.planCommissionCsv(csv));
    if (plan.affected.length !== lines) throw new Error(`planned ${plan.affected.length} of ${lines} meters`);
    process.stdout.write(`${JSON.stringify({ lines, ms: Math.round(ms), maxGapMs: Math.round(maxGapMs), ticks })}\n`);
    service.close();
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
