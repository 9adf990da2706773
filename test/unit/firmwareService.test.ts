import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { type CampaignState, decodeFirmwareFrame, encodeEnvelope, FirmwareError, type FirmwareReport, pack, parse } from '../../main/firmware/index.js';
import type { DcLink, Transfer } from '../../main/link/client.js';
import { ServiceError } from '../../main/ops/errors.js';
import { FirmwareService } from '../../main/ops/firmware.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { recordModelTrust } from '../../main/store/modelKeys.js';

const crypto = nodeCrypto;
const MODEL = 'GX-110 single-phase';
const OTHER = 'GX-310 three-phase';
const vendor = nodeRandom(32);
const stranger = nodeRandom(32);
const image = nodeRandom(3000);
const fields = { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 };
const good = pack(crypto, image, fields, vendor);
const kg = nodeRandom(16);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A DC link that records transfers and accepts each on the next tick; `answer` plays the meters. */
class FakeLink extends EventEmitter {
  readonly sent: Transfer[] = [];
  private readonly waiting = new Set<number>();
  answer: (frame: ReturnType<typeof decodeFirmwareFrame>) => FirmwareReport[] = () => [];
  /** false: the DC never accepts (a dead link) */
  accepting = true;
  state: { state: string } = { state: 'up' };

  setState(state: string): void {
    this.state = { state };
    this.emit('state', this.state);
  }

  send(transfer: Transfer): void {
    this.sent.push(transfer);
    this.waiting.add(transfer.transfer);
    if (!this.accepting) return;
    setImmediate(() => {
      this.waiting.delete(transfer.transfer);
      this.emit('accepted', transfer.transfer);
      if (transfer.kind === 'keyUpdate') return;
      const reports = this.answer(decodeFirmwareFrame(transfer.payload, 1));
      if (reports.length > 0) this.emit('message', { kind: 'firmware', reports });
      this.emit('message', { kind: 'status', status: { meters: 4, queued: 0, epoch: 0, airtimeSeconds: 0, queuedSeconds: 0 } });
    });
  }

  pending(): Transfer[] {
    return this.sent.filter((transfer) => this.waiting.has(transfer.transfer));
  }

  /** The DC takes what it had left waiting, as after a reconnect. */
  acceptWaiting(): void {
    this.accepting = true;
    for (const transfer of this.pending()) {
      this.waiting.delete(transfer.transfer);
      this.emit('accepted', transfer.transfer);
      if (transfer.kind !== 'keyUpdate') this.emit('message', { kind: 'firmware', reports: this.answer(decodeFirmwareFrame(transfer.payload, 1)) });
    }
  }
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'grep-firmware-'));
  const path = join(dir, 'km.db');
  const store = KmStore.create(path, 'passphrase', { cost: 2 ** 10, blockSize: 8, parallelism: 1 });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: 8 }, 'operator');
  // these meters were provisioned with the vendor's key (issue 15: staging refuses a package they would reject)
  for (const model of [MODEL, OTHER]) recordModelTrust(store.db, 1, { model, label: 'acme', publicKey: crypto.publicKey(vendor) }, new Date());
  const member = (meterId: number, model: string, status: 'member' | 'left' = 'member') =>
    store.saveMember(1, { meterId, serial: `S${meterId}`, model, subgroup: 0, position: meterId, joinedEpoch: 1, removedEpoch: status === 'member' ? null : 2, status });
  [1, 2, 3, 4].forEach((id) => member(id, MODEL));
  member(5, OTHER);
  member(6, MODEL, 'left');
  const open = (link = new FakeLink(), tuning: { stallTimeout?: number; maxRounds?: number; erasureModels?: Record<string, number> } = {}) => {
    const service = FirmwareService.open({ store, group: 'dc-1', actor: 'operator', link: link as unknown as DcLink, groupKey: () => ({ epoch: 7, kg }), roundTimeout: 0.05, drainTimeout: 0.2, ...tuning });
    cleanups.push(() => service.close());
    return { service, link };
  };
  const firmwareTables = () =>
    JSON.stringify(['firmware_keys', 'firmware_packages', 'firmware_campaigns', 'firmware_versions'].map((table) => store.db.prepare(`SELECT * FROM ${table}`).all()));
  const outboxRows = () => (store.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  return { store, open, firmwareTables, outboxRows };
}

function code(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof ServiceError || error instanceof FirmwareError) return error.code;
    throw error;
  }
  return undefined;
}

describe('FirmwareService staging (GREP.md §10)', () => {
  test('every refusal names its failed check and stores nothing; the refusal is audited', () => {
    const { store, open, firmwareTables } = setup();
    const { service } = open();
    service.trustKey('acme', crypto.publicKey(vendor));
    const parsed = parse(good);
    const cases: [string, Uint8Array, string][] = [
      ['corrupt', nodeRandom(good.length), 'format'],
      ['truncated', good.subarray(0, 20), 'format'],
      ['unsigned', encodeEnvelope({ ...parsed, signature: new Uint8Array(64) }), 'signature'],
      ['wrongly signed', pack(crypto, image, fields, stranger), 'signature'],
      ['wrong model', pack(crypto, image, { ...fields, model: 'GX-90 prepayment' }, vendor), 'model'],
      ['not above factory', pack(crypto, image, { ...fields, sequence: 1 }, vendor), 'sequence'],
      ['bad size', good.subarray(0, good.length - 1), 'size'],
      ['bad digest', encodeEnvelope({ ...parsed, image: nodeRandom(image.length) }), 'digest'],
    ];
    for (const [what, bytes, check] of cases) {
      const before = firmwareTables();
      const audited = store.auditEntries().length;
      const view = service.stage(bytes);
      expect([what, view.staged]).toEqual([what, undefined]);
      expect([what, view.checks.filter((c) => c.status === 'failed').map((c) => c.check)]).toEqual([what, expect.arrayContaining([check])]);
      expect([what, view.checks.find((c) => c.status === 'failed')!.check]).toEqual([what, check]);
      expect([what, firmwareTables()]).toEqual([what, before]);
      expect(service.packages()).toEqual([]);
      expect(store.auditEntries().slice(audited).map((entry) => entry.action)).toEqual(['refuse firmware']);
      expect(code(() => service.stageOrThrow(bytes))).toBe({ format: 'FORMAT', signature: 'SIGNATURE', size: 'SIZE', digest: 'DIGEST', model: 'MODEL', sequence: 'ROLLBACK' }[check]);
    }
    expect(service.campaigns()).toEqual([]);
    // the model check names the group's models
    expect(service.stage(cases[4]![1]).checks.find((c) => c.check === 'model')!.detail).toContain(OTHER);
  });

  test('a good package is stored once with its manifest; a package for the other model of the group is accepted too', () => {
    const { store, open } = setup();
    const { service } = open();
    service.trustKey('acme', crypto.publicKey(vendor));
    const view = service.stage(good);
    expect(view.checks.every((c) => c.status === 'passed')).toBe(true);
    expect(view.staged).toMatchObject({ id: 1, manifest: { model: MODEL, version: '2.0.0', sequence: 2, size: 3000, digest: Buffer.from(crypto.sha256(image)).toString('hex') } });
    expect(service.stage(good).staged!.id).toBe(1);
    expect(service.stage(pack(crypto, image, { ...fields, model: OTHER }, vendor)).staged!.id).toBe(2);
    expect(service.packages().map((p) => [p.id, p.manifest.model])).toEqual([[1, MODEL], [2, OTHER]]);
    expect(store.verifyAudit().ok).toBe(true);
  });

  test('a rolled-back package is refused once a higher sequence was activated for its model', () => {
    const { store, open } = setup();
    const { service } = open();
    service.trustKey('acme', crypto.publicKey(vendor));
    store.firmware.recordActivated(1, { model: MODEL, sequence: 3, version: '3.0.0', campaignId: 1 }, new Date());
    for (const sequence of [2, 3]) {
      const view = service.stage(pack(crypto, image, { ...fields, sequence }, vendor));
      expect(view.checks.find((c) => c.status === 'failed')).toMatchObject({ check: 'sequence' });
    }
    expect(service.stage(pack(crypto, image, { ...fields, sequence: 4 }, vendor)).staged).toBeDefined();
    // another model's running sequence is its own
    expect(service.stage(pack(crypto, image, { ...fields, model: OTHER, sequence: 2 }, vendor)).staged).toBeDefined();
  });

  test('trustKey refuses small-order and malformed keys without a row; a good key is audited once', () => {
    const { store, open, firmwareTables } = setup();
    const { service } = open();
    const before = firmwareTables();
    const smallOrder = Uint8Array.from([1, ...new Array<number>(31).fill(0)]);
    expect(code(() => service.trustKey('weak', smallOrder))).toBe('BAD_KEY');
    expect(code(() => service.trustKey('short', new Uint8Array(31).fill(9)))).toBe('BAD_KEY');
    expect(code(() => service.trustKey('', crypto.publicKey(vendor)))).toBe('BAD_INPUT');
    expect(firmwareTables()).toEqual(before);
    const keys = service.trustKey('acme', crypto.publicKey(vendor));
    expect(keys).toEqual([{ label: 'acme', publicKey: Buffer.from(crypto.publicKey(vendor)).toString('hex'), addedAt: expect.any(String) }]);
    expect(service.trustKey('again', crypto.publicKey(vendor))).toEqual(keys);
    expect(store.auditEntries().filter((e) => e.action === 'trust firmware key')).toHaveLength(1);
  });
});

describe('FirmwareService push and campaign steps', () => {
  test('push refuses unknown packages, non-members, other models, duplicates and bad block sizes without a campaign', () => {
    const { open, firmwareTables, outboxRows } = setup();
    const { service } = open();
    service.trustKey('acme', crypto.publicKey(vendor));
    const id = service.stage(good).staged!.id;
    const before = firmwareTables();
    const refusals: [unknown, string][] = [
      [{ packageId: 99 }, 'UNKNOWN_PACKAGE'],
      [{ packageId: id, meters: [1, 42] }, 'UNKNOWN_METER'],
      [{ packageId: id, meters: [5] }, 'UNKNOWN_METER'],
      [{ packageId: id, meters: [6] }, 'UNKNOWN_METER'],
      [{ packageId: id, meters: [1, 1] }, 'DUPLICATE_METER'],
      [{ packageId: id, meters: [] }, 'BAD_INPUT'],
      [{ packageId: id, blockSize: 15 }, 'BAD_INPUT'],
      [{ packageId: id, blockSize: 1025 }, 'BAD_INPUT'],
      [{ packageId: id, blockSize: 100.5 }, 'BAD_INPUT'],
      [{ packageId: id, generationSize: 0 }, 'BAD_INPUT'],
      [{ packageId: id, generationSize: 256 }, 'BAD_INPUT'],
      [{ packageId: 'one' }, 'BAD_INPUT'],
    ];
    for (const [input, expected] of refusals) expect([input, code(() => service.push(input as never))]).toEqual([input, expected]);
    expect(firmwareTables()).toEqual(before);
    expect(outboxRows()).toBe(0);
    expect(service.campaigns()).toEqual([]);
    expect(code(() => service.campaign(1))).toBe('UNKNOWN_CAMPAIGN');
    expect(code(() => service.pause(1))).toBe('UNKNOWN_CAMPAIGN');
  });

  test('a campaign runs over the link from the outbox, survives a restart, activates, and records the version against rollback', async () => {
    const { store, open, outboxRows } = setup();
    const first = open();
    first.service.trustKey('acme', crypto.publicKey(vendor));
    const pkg = first.service.stage(good).staged!;
    // the meters keep silent: the campaign stays in distribution
    const summary = first.service.push({ packageId: pkg.id, blockSize: 256 });
    // round 1 is committed before push returns; the driving goes on in the background
    expect(summary).toMatchObject({ id: 1, status: 'distributing', round: 1, meters: 4, totalBlocks: 12, blockSize: 256 });
    expect(code(() => first.service.push({ packageId: pkg.id, meters: [2] }))).toBe('CAMPAIGN_STATE');
    await waitFor(() => first.link.sent.length >= 14);
    // round 1: the key, 12 blocks, the query; every transfer id is its outbox row
    expect(first.link.sent.map((t) => (t.kind === 'keyUpdate' ? 'k' : decodeFirmwareFrame(t.payload, 1).kind)).slice(0, 14)).toEqual(['key', ...new Array(12).fill('block'), 'query']);
    const ids = first.link.sent.map((t) => t.transfer);
    expect(ids.slice(0, 14)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(store.firmware.campaign(1, 1)).toMatchObject({ status: 'distributing' });
    expect(code(() => first.service.activate(1))).toBe('CAMPAIGN_STATE');
    expect(code(() => first.service.resume(1))).toBe('CAMPAIGN_STATE');

    // restart: nothing of the stored round goes again (the DC accepted all of it); the next round goes under fresh ids
    first.service.close();
    const roundBefore = first.service.campaign(1).round;
    const second = open();
    await waitFor(() => second.link.sent.length > 0);
    expect(Math.min(...second.link.sent.map((t) => t.transfer))).toBeGreaterThan(Math.max(...ids));
    expect(second.service.campaign(1).round).toBeGreaterThanOrEqual(roundBefore);

    // pause stops the rounds; resume picks up; the meters now answer and the campaign settles
    expect(second.service.pause(1).status).toBe('paused');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sentWhilePaused = second.link.sent.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(second.link.sent.length).toBe(sentWhilePaused);
    second.link.answer = (frame) => (frame.kind === 'query' ? [1, 2, 3, 4].map((meter) => ({ meter, campaign: frame.campaign, status: 'verified' as const })) : []);
    expect(second.service.resume(1).status).toBe('distributing');
    expect((await second.service.settled(1, 10)).status).toBe('distributed');
    expect(store.firmware.campaign(1, 1)).toMatchObject({ status: 'distributed' });

    second.link.answer = (frame) => (frame.kind === 'activate' ? [1, 2, 3, 4].map((meter) => ({ meter, campaign: frame.campaign, status: 'activated' as const, version: '2.0.0' })) : []);
    expect(second.service.activate(1).status).toBe('activating');
    const done = await second.service.settled(1, 10);
    expect(done).toMatchObject({ status: 'completed', counts: { activated: 4 } });
    expect(second.service.campaign(1).perMeter.map((m) => [m.meterId, m.state, m.version])).toEqual([1, 2, 3, 4].map((id) => [id, 'activated', '2.0.0']));
    expect(code(() => second.service.cancel(1))).toBe('CAMPAIGN_STATE');
    // the whole package went through the outbox, and the DC accepted all of it
    // (what the first link had not accepted when it closed is the KeyManagerService's to resend)
    const firstIds = new Set(first.link.sent.map((t) => t.transfer));
    await waitFor(() => store.pendingOutbox(1).every((entry) => firstIds.has(entry.id)));
    expect(outboxRows()).toBe(second.link.sent.length + first.link.sent.length);
    expect(done.sentBytes).toBeGreaterThan(image.length);

    // anti-rollback: the activated sequence is now what the model runs
    expect(store.firmware.activatedVersion(1, MODEL)).toMatchObject({ sequence: 2, version: '2.0.0', campaignId: 1 });
    expect(second.service.stage(good).checks.find((c) => c.status === 'failed')).toMatchObject({ check: 'sequence' });
    expect(code(() => second.service.push({ packageId: pkg.id }))).toBe('ROLLBACK');
    const actions = store.auditEntries().map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['push firmware', 'pause campaign', 'resume campaign', 'campaign distributed', 'activate campaign', 'campaign completed']));
    expect(store.verifyAudit().ok).toBe(true);
  });

  test('a model that declares erasure support gets a coded campaign, another model block repair', async () => {
    const { store, open } = setup();
    const { service, link } = open(new FakeLink(), { erasureModels: { [MODEL]: 8 } });
    service.trustKey('acme', crypto.publicKey(vendor));
    const coded = service.push({ packageId: service.stage(good).staged!.id });
    await waitFor(() => link.sent.length > 0);
    service.cancel(coded.id);
    const other = service.push({ packageId: service.stage(pack(crypto, image, { ...fields, model: OTHER }, vendor)).staged!.id });
    const codingOf = (id: number) => (JSON.parse(store.firmware.campaign(1, id)!.state) as CampaignState).coding;
    expect(codingOf(coded.id)).toEqual({ generationSize: 8, margin: 1, repairSent: [0, 0] });
    expect(codingOf(other.id)).toBeUndefined();
    expect(store.auditEntries().filter((entry) => entry.action === 'push firmware').map((entry) => (entry.detail as { repair: unknown }).repair)).toEqual([
      { code: 'reed-solomon', generationSize: 8 },
      'blocks',
    ]);
  });

  test('a coded campaign stores which repair symbols went out: a restart sends only fresh symbols', async () => {
    const { store, open } = setup();
    const meters = (link: FakeLink) => {
      // every meter keeps needing one more symbol of generation 0 and two of generation 2
      link.answer = (frame) => (frame.kind === 'query' ? [1, 2, 3, 4].map((meter) => ({ meter, campaign: frame.campaign, status: 'needs' as const, needs: Uint8Array.from([1, 0, 2]) })) : []);
      return link;
    };
    const repairsOf = (link: FakeLink) =>
      link.sent.flatMap((t) => {
        const frame = t.kind === 'keyUpdate' ? undefined : decodeFirmwareFrame(t.payload, 1);
        return frame?.kind === 'repair' ? [`${frame.generation}:${frame.symbol}`] : [];
      });
    const first = open(meters(new FakeLink()));
    first.service.trustKey('acme', crypto.publicKey(vendor));
    const pkg = first.service.stage(good).staged!;
    expect(first.service.push({ packageId: pkg.id, generationSize: 4 })).toMatchObject({ totalBlocks: 12 });
    // 2 + 3 symbols a round (need + margin 1 per generation)
    await waitFor(() => repairsOf(first.link).length >= 10);
    first.service.close();
    const before = repairsOf(first.link);
    expect(new Set(before).size).toBe(before.length);
    const stored = JSON.parse(store.firmware.campaign(1, 1)!.state) as CampaignState;
    expect(stored.coding).toMatchObject({ generationSize: 4, margin: 1 });
    expect(stored.coding!.repairSent.reduce((sum, sent) => sum + sent, 0)).toBe(before.length);

    const second = open(meters(new FakeLink()));
    await waitFor(() => repairsOf(second.link).length >= 10);
    second.service.close();
    const after = repairsOf(second.link);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((symbol) => before.includes(symbol))).toEqual([]);
  });

  test('cancel stops a campaign for good; removed meters get nothing more and are failed', async () => {
    const { store, open } = setup();
    const { service, link } = open();
    service.trustKey('acme', crypto.publicKey(vendor));
    const pkg = service.stage(good).staged!;
    service.push({ packageId: pkg.id, meters: [1, 2, 3] });
    await waitFor(() => link.sent.length >= 14);
    service.removeMeters([2, 99]);
    expect(service.campaign(1).perMeter.find((m) => m.meterId === 2)).toMatchObject({ state: 'failed', reason: 'removed from the group' });
    expect(store.auditEntries().at(-1)).toMatchObject({ action: 'campaign drops meters', detail: { meters: [2] } });
    // later rounds address no frame to meter 2
    const from = link.sent.length;
    await waitFor(() => link.sent.length > from + 1);
    expect(link.sent.slice(from).filter((t) => t.kind === 'unicast' && t.member === 2)).toEqual([]);
    expect(service.cancel(1).status).toBe('cancelled');
    expect(code(() => service.resume(1))).toBe('CAMPAIGN_STATE');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = link.sent.length;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(link.sent.length).toBe(after);
    // a cancelled campaign frees its meters for the next one
    expect(service.push({ packageId: pkg.id, meters: [1] }).id).toBe(2);
  });
});

describe('FirmwareService bounds', () => {
  test('a DC that accepts nothing pauses the campaign with the reason audited, instead of failing silent meters', async () => {
    const { store, open } = setup();
    const link = new FakeLink();
    link.accepting = false;
    const { service } = open(link, { stallTimeout: 0.2 });
    service.trustKey('acme', crypto.publicKey(vendor));
    const { id } = service.push({ packageId: service.stage(good).staged!.id });
    expect(await service.settled(id, 5)).toMatchObject({ status: 'paused', counts: { pending: 4, failed: 0 } });
    expect(store.auditEntries().at(-1)).toMatchObject({ action: 'pause campaign', detail: { reason: expect.stringContaining('accepted none') } });
  });

  test('meters that answer without progress pause the campaign after maxRounds', async () => {
    const { store, open } = setup();
    const link = new FakeLink();
    link.answer = (frame) => (frame.kind === 'query' ? [1, 2, 3, 4].map((meter) => ({ meter, campaign: frame.campaign, status: 'no-key' as const })) : []);
    const { service } = open(link, { maxRounds: 3 });
    service.trustKey('acme', crypto.publicKey(vendor));
    const { id } = service.push({ packageId: service.stage(good).staged!.id });
    expect(await service.settled(id, 5)).toMatchObject({ status: 'paused', round: 3 });
    expect(store.auditEntries().at(-1)).toMatchObject({ action: 'pause campaign', detail: { reason: expect.stringContaining('no end after 3 rounds') } });
    // the reason is on the campaign, and says the operator has to act
    expect(service.campaign(id).note).toMatchObject({ kind: 'paused', by: 'driver', resumesItself: false, reason: expect.stringContaining('Resume for 3 more rounds, or Cancel') });
  });

  test('a reopened service resumes a campaign only once the link is up', async () => {
    const { open } = setup();
    const first = open();
    first.service.trustKey('acme', crypto.publicKey(vendor));
    const { id } = first.service.push({ packageId: first.service.stage(good).staged!.id });
    await waitFor(() => first.link.sent.length >= 14);
    first.service.close();
    const down = new FakeLink();
    down.setState('connecting');
    const second = open(down);
    expect(second.service.campaign(id).status).toBe('distributing');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(down.sent).toEqual([]);
    down.setState('up');
    await waitFor(() => down.sent.length >= 1);
  });
});

describe('FirmwareService when the DC link drops or stalls (issue 15)', () => {
  const verified = (frame: ReturnType<typeof decodeFirmwareFrame>) => (frame.kind === 'query' ? [1, 2, 3, 4].map((meter) => ({ meter, campaign: frame.campaign, status: 'verified' as const })) : []);
  const activated = (meters: number[]) => (frame: ReturnType<typeof decodeFirmwareFrame>) =>
    frame.kind === 'activate' ? meters.map((meter) => ({ meter, campaign: frame.campaign, status: 'activated' as const, version: '2.0.0' })) : [];

  async function distributed(tuning: { stallTimeout?: number } = {}) {
    const { store, open } = setup();
    const link = new FakeLink();
    link.answer = verified;
    const { service } = open(link, tuning);
    service.trustKey('acme', crypto.publicKey(vendor));
    const { id } = service.push({ packageId: service.stage(good).staged!.id });
    expect(await service.settled(id, 5)).toMatchObject({ status: 'distributed', counts: { verified: 4 } });
    return { store, link, service, id };
  }

  test('activation pressed with the DC link down waits, says why, never pauses, and completes by itself when the link is back', async () => {
    const { link, service, id } = await distributed({ stallTimeout: 0.2 });
    link.accepting = false;
    link.setState('connecting');
    service.activate(id);
    // well past the stall timeout: a dead link is no stall, and no meter is counted silent
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(service.campaign(id)).toMatchObject({ status: 'activating', counts: { activated: 0, failed: 0 }, note: { kind: 'waiting', resumesItself: true, reason: expect.stringContaining('goes on by itself when the link is back') } });
    link.answer = activated([1, 2, 3, 4]);
    link.setState('up');
    link.acceptWaiting();
    expect(await service.settled(id, 5)).toMatchObject({ status: 'completed', counts: { activated: 4 }, note: undefined });
  });

  test('a DC that stops accepting with the link up pauses the campaign, with the reason on it, until it accepts again', async () => {
    const { store, link, service, id } = await distributed({ stallTimeout: 0.2 });
    link.accepting = false;
    service.activate(id);
    expect(await service.settled(id, 5)).toMatchObject({ status: 'paused', note: { kind: 'paused', by: 'driver', resumesItself: true, reason: expect.stringContaining('accepted none') } });
    link.answer = activated([1, 2, 3, 4]);
    link.acceptWaiting();
    await waitFor(() => service.campaign(id).status === 'completed');
    expect(service.campaign(id)).toMatchObject({ counts: { activated: 4 }, note: undefined });
    expect(store.auditEntries().map((entry) => entry.action)).toEqual(expect.arrayContaining(['pause campaign', 'resume campaign', 'campaign completed']));
  });

  test('an operator pause stays paused when the link comes back, and says so', async () => {
    const { link, service, id } = await distributed();
    link.accepting = false;
    service.activate(id);
    expect(service.pause(id).note).toMatchObject({ kind: 'paused', by: 'operator', resumesItself: false });
    link.setState('connecting');
    link.setState('up');
    link.acceptWaiting();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(service.campaign(id).status).toBe('paused');
  });

  test('cancel during activation: meters that switched stay activated, a late switch is recorded, nothing more is sent', async () => {
    const { store, link, service, id } = await distributed();
    link.answer = activated([1, 2]);
    service.activate(id);
    await waitFor(() => service.campaign(id).counts.activated === 2);
    expect(service.cancel(id)).toMatchObject({ status: 'cancelled', counts: { activated: 2 } });
    const sent = link.sent.length;
    // an activate frame the DC already held switches meter 3 after the cancel
    link.emit('message', { kind: 'firmware', reports: [{ meter: 3, campaign: id, status: 'activated', version: '2.0.0' }] });
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(service.campaign(id)).toMatchObject({ status: 'cancelled', counts: { activated: 3, verified: 1 } });
    expect(link.sent.length).toBe(sent);
    expect(store.firmware.activatedVersion(1, MODEL)).toMatchObject({ sequence: 2, campaignId: id });
  });

  test('the current round\'s frames on the air are counted from the DC\'s aired reports', async () => {
    const { store, open } = setup();
    const link = new FakeLink();
    link.accepting = false;
    const { service } = open(link);
    service.trustKey('acme', crypto.publicKey(vendor));
    const { id } = service.push({ packageId: service.stage(good).staged!.id });
    const round = link.sent.map((transfer) => transfer.transfer);
    expect(service.campaign(id).onAir).toEqual({ frames: 14, aired: 0, dcQueueSeconds: undefined });
    link.emit('message', { kind: 'aired', transfers: [...round.slice(0, 5), 999], queued: 9, queuedSeconds: 3.5 });
    link.emit('message', { kind: 'aired', transfers: round.slice(3, 6), queued: 8, queuedSeconds: 3 });
    expect(service.campaign(id).onAir).toEqual({ frames: 14, aired: 6, dcQueueSeconds: 3 });
    expect(store.firmware.campaign(1, id)!.status).toBe('distributing');
  });
});

async function waitFor(done: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
