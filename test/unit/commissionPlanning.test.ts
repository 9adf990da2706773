import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TIMING } from '../../main/link/channel.js';
import type { DcLink } from '../../main/link/client.js';
import { ServiceError } from '../../main/ops/errors.js';
import { COMMISSION_LIMIT } from '../../main/ops/planning.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { watchEventLoop } from '../support/eventLoop.js';

/*
 * Planning a commissioning CSV as large as COMMISSION_LIMIT allows, in the process that also keeps the
 * DC link's session: the CSV is read and the joins sized a slice at a time, and larger input is refused
 * before anything is read or stored.
 */

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'grep-commission-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = KmStore.create(join(dir, 'km.db'), 'passphrase', { cost: 2 ** 10, blockSize: 8, parallelism: 1 });
  cleanups.push(() => store.close());
  KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: 10_000 }, 'operator');
  // planning sends nothing: a link that never comes up
  const service = KeyManagerService.open({ store, group: 'dc-1', actor: 'operator', link: Object.assign(new EventEmitter(), { state: { state: 'stopped' } }) as unknown as DcLink });
  cleanups.push(() => service.close());
  const stored = () => ({ plans: store.db.prepare('SELECT COUNT(*) AS n FROM plans').get(), audit: store.auditEntries().length });
  return { store, service, stored };
}

/** A header and `meters` valid lines; each meter's node key is its id in hex. */
const fleetCsv = (meters: number) =>
  `id,serial,model,nodeKey\n${Array.from({ length: meters }, (_, index) => `${index + 1},SN-${index + 1},GX-110,${(index + 1).toString(16).padStart(32, '0')}`).join('\n')}\n`;

describe('commissioning a large CSV', () => {
  it('plans the largest CSV allowed while the event loop keeps ticking', async () => {
    const { service } = setup();
    const { result: plan, ticks, maxGapMs } = await watchEventLoop(() => service.planCommissionCsv(fleetCsv(COMMISSION_LIMIT.csvMeters)));
    expect(plan.affected).toHaveLength(COMMISSION_LIMIT.csvMeters);
    // into an empty group the compact re-seed is the cheapest of the three methods sized
    expect(plan.commissioning?.method).toBe('reseed');
    expect(plan.messages.SEED).toBe(COMMISSION_LIMIT.csvMeters);
    expect(plan.rejected).toEqual([]);
    // a blocking planner lets the timer fire not once; the plan row and its audit row are saved in one
    // transaction at the end, the one long pause left, well inside the link's keep-alive interval
    expect(ticks).toBeGreaterThanOrEqual(20);
    expect(maxGapMs).toBeLessThan(DEFAULT_TIMING.keepaliveMs);
  });

  it('refuses a CSV of one line over the limit before reading it, storing nothing', async () => {
    const { service, stored } = setup();
    const before = stored();
    const refusal = await service.planCommissionCsv(fleetCsv(COMMISSION_LIMIT.csvMeters + 1)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ServiceError);
    expect(refusal).toMatchObject({ code: 'TOO_LARGE', message: expect.stringMatching(/more than 100000 lines .* split the file/) });
    expect(stored()).toEqual(before);
  });

  it('refuses a CSV over the byte limit and a list over its limit, storing nothing', async () => {
    const { service, stored } = setup();
    const before = stored();
    const padded = `${fleetCsv(1)}${' '.repeat(COMMISSION_LIMIT.csvBytes)}`;
    expect(await service.planCommissionCsv(padded).catch((error: unknown) => error)).toMatchObject({ code: 'TOO_LARGE', message: expect.stringMatching(/over the limit of 16 MiB/) });
    const meters = Array.from({ length: COMMISSION_LIMIT.listMeters + 1 }, (_, index) => ({ id: index + 1, serial: 's', model: 'm', nodeKey: '00'.repeat(16) }));
    expect(await service.planCommission(meters).catch((error: unknown) => error)).toMatchObject({ code: 'TOO_LARGE', message: expect.stringMatching(/as a CSV/) });
    expect(stored()).toEqual(before);
  });
});
