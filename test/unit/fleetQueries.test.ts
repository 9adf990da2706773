import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KeyManagerService } from '../../main/ops/service.js';
import { findMeter, groupSummaries } from '../../main/store/fleetQueries.js';
import { KmStore, type MemberRecord } from '../../main/store/index.js';

/** Questions across the groups of one store: the sites an operator looks after, where a meter had keys. */
describe('a store of several groups', () => {
  let dir: string;
  let store: KmStore;
  const member = (meterId: number, serial: string, over: Partial<MemberRecord> = {}): MemberRecord => ({ meterId, serial, model: 'GX-110', subgroup: 0, position: meterId, joinedEpoch: 1, removedEpoch: null, status: 'member', ...over });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'grep-fleet-queries-'));
    store = KmStore.create(join(dir, 'km.db'), 'fleet queries passphrase', { cost: 1024, blockSize: 8, parallelism: 1 });
    const north = KeyManagerService.createGroup(store, { id: 1, name: 'north', plannedSize: 10 }, 'test');
    const south = KeyManagerService.createGroup(store, { id: 2, name: 'south', plannedSize: 10 }, 'test');
    store.transaction(() => {
      // meter 4711 served in north until epoch 3, then moved to south
      store.saveMember(north.id, member(4711, 'SN-4711', { status: 'left', removedEpoch: 3 }));
      store.saveMember(north.id, member(12, 'SN-12'));
      store.saveSync(north.id, { meterId: 12, ackedEpoch: 1, fingerprint: null, lastSeen: null, status: 'in sync' });
      store.saveMember(south.id, member(4711, 'SN-4711', { joinedEpoch: 5 }));
      store.saveMember(south.id, member(13, 'SN-13'));
      store.saveSync(south.id, { meterId: 13, ackedEpoch: 0, fingerprint: null, lastSeen: null, status: 'lagging' });
    });
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every group with its members by sync state', () => {
    expect(groupSummaries(store.db)).toEqual([
      { id: 1, name: 'north', epoch: 0, dc: null, members: 1, sync: { 'in sync': 1 }, lastOperation: null, openCampaigns: 0 },
      { id: 2, name: 'south', epoch: 0, dc: null, members: 2, sync: { lagging: 1, 'never seen': 1 }, lastOperation: null, openCampaigns: 0 },
    ]);
  });

  test('a meter is found in every group it is or was in, by id and by serial, its current membership first', () => {
    const byId = findMeter(store.db, { meterId: 4711, serial: '4711' });
    expect(byId.map((where) => [where.group, where.status, where.joinedEpoch, where.removedEpoch])).toEqual([
      ['south', 'member', 5, null],
      ['north', 'left', 1, 3],
    ]);
    expect(findMeter(store.db, { serial: 'SN-4711' })).toEqual(byId);
    expect(findMeter(store.db, { serial: "SN-4711' OR '1'='1" })).toEqual([]);
  });
});
