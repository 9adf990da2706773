import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GroupRecord, KmStore } from '../../main/store/index.js';
import { firmwareVersions, memberOperations } from '../../main/store/memberQueries.js';

/*
 * The read-only questions of a member's detail, against rows written the way the service writes them:
 * which operations touched a meter, and which firmware it reported.
 */

let dir: string;
let store: KmStore;
let group: GroupRecord;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'grep-member-queries-'));
  store = KmStore.create(join(dir, 'km.sqlite'), 'member queries passphrase', { cost: 1024, blockSize: 8, parallelism: 1 }, { writer: 'test' });
  group = store.createGroup({ id: 1, name: 'g', subgroupCap: 4, publicKey: new Uint8Array(32), state: new Uint8Array(8), signingKey: new Uint8Array(32), epoch: 0 });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

let plans = 0;
/** one executed operation: its plan's affected list and its history row, as KeyManagerService.commit writes them */
function operation(operation: string, affected: number[], epochFrom: number, epochTo: number, result = 'converged', departed?: number[]): void {
  const id = `plan-${++plans}`;
  store.savePlan({ id, groupId: group.id, operation, parameters: { operation, affected, ...(departed ? { departed } : {}), rejected: [] }, secrets: undefined, epoch: epochFrom, createdAt: '2026-01-01T00:00:00Z' });
  store.addHistory(group.id, { planId: id, operation, epochFrom, epochTo, messages: {}, bytes: 1, actor: 'test', startedAt: '2026-01-01T00:00:00Z', result });
}

describe('the operations that touched a meter', () => {
  beforeEach(() => {
    operation('commission', [1, 2, 3], 0, 1);
    operation('commission', [4], 1, 2);
    operation('resync', [1], 2, 2);
    operation('leave', [2], 2, 3);
    operation('command', [1, 3, 4], 3, 3, 'confirmed');
    operation('periodic', [], 3, 4);
  });
  const touched = (meterId: number, joinedEpoch: number, removedEpoch: number | null) =>
    memberOperations(store.db, group.id, { meterId, joinedEpoch, removedEpoch }, { offset: 0, limit: 50 }).rows.map((row) => `${row.operation}:${row.relation}`);

  it('names the operations listing the meter, and every epoch change while it was a member', () => {
    expect(touched(1, 1, null)).toEqual(['periodic:group', 'command:named', 'leave:group', 'resync:named', 'commission:group', 'commission:named']);
  });

  it('starts at the meter’s commissioning: nothing before it joined', () => {
    expect(touched(4, 2, null)).toEqual(['periodic:group', 'command:named', 'leave:group', 'commission:named']);
  });

  it('ends at the removal of a meter that left', () => {
    expect(touched(2, 1, 3)).toEqual(['leave:named', 'commission:group', 'commission:named']);
  });

  it('keeps a later recovery that suspected the departed meter', () => {
    operation('recover', [3], 4, 5, 'converged', [2]);
    expect(touched(2, 1, 3)).toEqual(['recover:named', 'leave:named', 'commission:group', 'commission:named']);
    expect(touched(1, 1, null)[0]).toBe('recover:group');
  });

  it('pages newest first and counts them all', () => {
    const page = memberOperations(store.db, group.id, { meterId: 1, joinedEpoch: 1, removedEpoch: null }, { offset: 2, limit: 2 });
    expect(page.total).toBe(6);
    expect(page.rows.map((row) => row.operation)).toEqual(['leave', 'resync']);
  });
});

describe('the firmware each meter reported', () => {
  beforeEach(() => {
    store.db.prepare("INSERT INTO firmware_packages (group_id, vendor, model, version, sequence, size, digest, package_digest, bytes, staged_at) VALUES (1, 'v', 'm', '2.0.0', 2, 1, 'd', 'pd', x'00', 't')").run();
  });
  const campaign = (meters: Record<string, { version?: string }>) =>
    store.firmware.createCampaign(group.id, { packageId: 1, blockSize: 256, kfw: new Uint8Array(16), audience: 'model', at: new Date() }, () => ({ status: 'activating', json: JSON.stringify({ meters }) }));
  const versions = () => Object.fromEntries([...firmwareVersions(store.db, group.id)].map(([meter, firmware]) => [meter, `${firmware.version}@${firmware.campaignId}`]));

  it('takes the version a meter reported after activating, the newest campaign winning', () => {
    const first = campaign({ 1: { version: '1.0.0' }, 2: { version: '1.0.0' }, 3: {} });
    const second = campaign({ 2: { version: '2.0.0' }, 3: {} });
    expect(versions()).toEqual({ 1: `1.0.0@${first}`, 2: `2.0.0@${second}` });
  });

  it('reads a campaign again once its row changed, even within the same millisecond', () => {
    const id = campaign({ 5: {} });
    expect(versions()).toEqual({});
    const at = new Date('2026-01-01T00:00:00Z');
    store.firmware.saveCampaign(id, { status: 'activating', state: JSON.stringify({ meters: { 5: {} } }), at });
    expect(versions()).toEqual({});
    store.firmware.saveCampaign(id, { status: 'completed', state: JSON.stringify({ meters: { 5: { version: '3.0.0' } } }), at });
    expect(versions()).toEqual({ 5: `3.0.0@${id}` });
  });
});
