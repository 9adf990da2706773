import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { keyFileText } from '../../main/files/keyFile.js';
import { FirmwareError, pack, readPublicKey } from '../../main/firmware/index.js';
import { toHex } from '../../main/grep/index.js';
import type { DcLink, Transfer } from '../../main/link/client.js';
import { FirmwareService } from '../../main/ops/firmware.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { keysTrustedByModel, modelTrust, recordModelTrust } from '../../main/store/modelKeys.js';
import { DEMO_VENDOR_KEY_PATH, parseSimArgs } from '../../sim/args.js';
import { METER_MODELS } from '../../sim/fleet.js';
import { ServiceError } from '../../main/ops/errors.js';
import { errorCodeOf } from '../support/grepError.js';

/*
 * Issue 15: the simulated meters trust only the demo vendor key, so a package signed by the operator's
 * own key went through staging and failed on every meter after the whole transfer. The Key Manager
 * records which keys each model's meters trust and refuses such a package before a frame goes out.
 */

const crypto = nodeCrypto;
const DEMO_MODEL = METER_MODELS[0];
const OWN_MODEL = 'AX-9 prepayment';
const vendor = nodeRandom(32);
const vendorPublic = crypto.publicKey(vendor);
const demoPublic = readPublicKey(DEMO_VENDOR_KEY_PATH);
const image = nodeRandom(1500);
const serviceCode = errorCodeOf(ServiceError);
const firmwareCode = errorCodeOf(FirmwareError);
const packageFor = (model: string, key = vendor, sequence = 2) => pack(crypto, image, { vendor: 'Acme', model, version: `${sequence}.0`, sequence }, key);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Records every transfer: a refused push must leave it empty. */
class RecordingLink extends EventEmitter {
  readonly sent: Transfer[] = [];
  readonly state = { state: 'up' };
  send(transfer: Transfer): void {
    this.sent.push(transfer);
  }
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'grep-model-trust-'));
  const store = KmStore.create(join(dir, 'km.db'), 'passphrase', { cost: 2 ** 10, blockSize: 8, parallelism: 1 });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => store.close());
  KeyManagerService.createGroup(store, { id: 1, name: 'dc-1', plannedSize: 8 }, 'operator');
  const member = (meterId: number, model: string) =>
    store.saveMember(1, { meterId, serial: `S${meterId}`, model, subgroup: 0, position: meterId, joinedEpoch: 1, removedEpoch: null, status: 'member' });
  [1, 2, 3].forEach((id) => member(id, DEMO_MODEL));
  [4, 5].forEach((id) => member(id, OWN_MODEL));
  const link = new RecordingLink();
  const service = FirmwareService.open({ store, group: 'dc-1', actor: 'operator', link: link as unknown as DcLink, groupKey: () => ({ epoch: 1, kg: nodeRandom(16) }) });
  cleanups.push(() => service.close());
  service.trustKey('acme', vendorPublic);
  const outboxRows = () => (store.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  const audited = (action: string) => store.auditEntries().filter((entry) => entry.action === action);
  return { store, service, link, outboxRows, audited };
}

describe('model trust in the store (store/modelKeys.ts)', () => {
  test("a new group records the demo fleet's models as trusting the demo vendor key of resources/firmware", () => {
    const { store } = setup();
    const recorded = modelTrust(store.db, 1).map((entry) => [entry.model, entry.label, toHex(entry.publicKey)]);
    expect(recorded).toEqual([...METER_MODELS].sort().map((model) => [model, 'demo vendor (simulator)', toHex(demoPublic)]));
  });

  test('records a key once per model, keeping its first label, apart from other models and groups', () => {
    const { store } = setup();
    KeyManagerService.createGroup(store, { id: 2, name: 'dc-2', plannedSize: 8 }, 'operator');
    const at = new Date('2025-01-02T03:04:05Z');
    expect(recordModelTrust(store.db, 1, { model: OWN_MODEL, label: 'acme', publicKey: vendorPublic }, at)).toBe(true);
    expect(recordModelTrust(store.db, 1, { model: OWN_MODEL, label: 'renamed', publicKey: vendorPublic }, new Date())).toBe(false);
    expect(keysTrustedByModel(store.db, 1, OWN_MODEL)).toEqual([{ model: OWN_MODEL, label: 'acme', publicKey: vendorPublic, addedAt: at.toISOString() }]);
    expect(keysTrustedByModel(store.db, 2, OWN_MODEL)).toEqual([]);
    expect(keysTrustedByModel(store.db, 1, DEMO_MODEL).map((entry) => entry.label)).toEqual(['demo vendor (simulator)']);
  });
});

describe("staging and push against the keys a model's meters trust", () => {
  test("staging refuses, by name and before storing anything, a package the model's meters would reject", () => {
    const { service, audited } = setup();
    const view = service.stage(packageFor(DEMO_MODEL));
    expect(view.staged).toBeUndefined();
    const trust = view.checks.find((check) => check.check === 'trust')!;
    expect(trust.status).toBe('failed');
    expect(trust.detail).toBe(
      `meters of model ${DEMO_MODEL} trust demo vendor (simulator) (${toHex(demoPublic).slice(0, 16)}…); this package is signed by acme (${toHex(vendorPublic).slice(0, 16)}…): ` +
        `record the model's trust with \`grepctl fw trust --model "${DEMO_MODEL}" <key file>\` if the meters were provisioned with it`,
    );
    expect(firmwareCode(() => service.stageOrThrow(packageFor(DEMO_MODEL)))).toBe('MODEL_DOES_NOT_TRUST_KEY');
    expect(service.packages()).toEqual([]);
    expect(audited('refuse firmware').at(-1)?.detail).toMatchObject({ failed: [{ check: 'trust' }] });
  });

  test("once the model's trust is recorded the same package stages, its trust check naming the key", () => {
    const { service, audited } = setup();
    const models = service.trustKeyForModel(DEMO_MODEL, vendorPublic);
    expect(models.find((entry) => entry.model === DEMO_MODEL)!.keys.map((key) => key.label)).toEqual(['demo vendor (simulator)', 'acme']);
    const view = service.stage(packageFor(DEMO_MODEL));
    expect(view.staged).toBeDefined();
    expect(view.checks.find((check) => check.check === 'trust')).toEqual({ check: 'trust', status: 'passed', detail: `meters of model ${DEMO_MODEL} trust acme (${toHex(vendorPublic).slice(0, 16)}…)` });
    expect(view.warnings).toEqual([]);
    expect(audited('record model trust').map((entry) => entry.detail)).toEqual([{ model: DEMO_MODEL, label: 'acme', publicKey: toHex(vendorPublic) }]);
  });

  test('a key staging does not trust yet needs a label, and is then trusted for staging too', () => {
    const { store, service } = setup();
    const other = crypto.publicKey(nodeRandom(32));
    expect(serviceCode(() => service.trustKeyForModel(OWN_MODEL, other))).toBe('BAD_INPUT');
    expect(keysTrustedByModel(store.db, 1, OWN_MODEL)).toEqual([]);
    expect(serviceCode(() => service.trustKeyForModel(OWN_MODEL, Uint8Array.of(1, ...new Uint8Array(31)), 'weak'))).toBe('BAD_KEY');
    service.trustKeyForModel(OWN_MODEL, other, 'second vendor');
    expect(service.trustedKeys().map((key) => key.label)).toEqual(['acme', 'second vendor']);
    expect(service.modelTrust().find((entry) => entry.model === OWN_MODEL)).toMatchObject({ members: 2, keys: [{ label: 'second vendor', publicKey: toHex(other) }] });
  });

  test('a model with no record stages with the named warning MODEL_TRUST_UNRECORDED', () => {
    const { service, audited } = setup();
    const view = service.stage(packageFor(OWN_MODEL));
    expect(view.staged).toBeDefined();
    expect(view.checks.find((check) => check.check === 'trust')!.status).toBe('skipped');
    expect(view.warnings).toHaveLength(1);
    expect(view.warnings[0]!.code).toBe('MODEL_TRUST_UNRECORDED');
    expect(view.warnings[0]!.message).toContain(`no record of the keys meters of model ${OWN_MODEL} trust; this package is signed by acme`);
    expect(audited('stage firmware').at(-1)?.detail).toMatchObject({ warnings: ['MODEL_TRUST_UNRECORDED'] });
    expect(service.modelTrust().find((entry) => entry.model === OWN_MODEL)).toEqual({ model: OWN_MODEL, members: 2, keys: [] });
  });

  test("push refuses a staged package the model's record no longer covers, before a campaign or a frame exists", () => {
    const { service, link, outboxRows } = setup();
    const staged = service.stage(packageFor(OWN_MODEL)).staged!;
    // the operator learns since staging that these meters were provisioned with another key
    service.trustKeyForModel(OWN_MODEL, crypto.publicKey(nodeRandom(32)), 'factory');
    const before = outboxRows();
    let refusal: unknown;
    try {
      service.push({ packageId: staged.id });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(FirmwareError);
    expect(refusal).toMatchObject({ code: 'MODEL_DOES_NOT_TRUST_KEY', check: 'trust' });
    expect((refusal as Error).message).toMatch(/^trust check failed: meters of model AX-9 prepayment trust factory \([0-9a-f]{16}…\); this package is signed by acme .*; nothing was sent$/);
    expect(link.sent).toEqual([]);
    expect(outboxRows()).toBe(before);
    expect(service.campaigns()).toEqual([]);
  });
});

describe('npm run sim --trust-key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grep-trust-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const base = ['--tcp', '127.0.0.1:0', '--pairing-key', file('pairing.key', '00112233445566778899aabbccddeeff\n'), '--km-public-key', file('km.pub', 'ab'.repeat(32))];

  test('is repeatable, every key beside --vendor-key, none by default', () => {
    const first = crypto.publicKey(nodeRandom(32));
    const second = crypto.publicKey(nodeRandom(32));
    const args = parseSimArgs([...base, '--trust-key', file('a.pub', keyFileText('vendorPublic', first)), '--trust-key', file('b.pub', keyFileText('vendorPublic', second))]);
    expect(args['trust-key'].map(toHex)).toEqual([toHex(first), toHex(second)]);
    expect(toHex(args['vendor-key'])).toBe(toHex(demoPublic));
    expect(parseSimArgs(base)['trust-key']).toEqual([]);
  });

  test('refuses a missing file, a secret key and a small-order point, naming the flag and the file', () => {
    expect(() => parseSimArgs([...base, '--trust-key', join(dir, 'missing.pub')])).toThrow(/^--trust-key: .*missing\.pub/);
    expect(() => parseSimArgs([...base, '--trust-key', file('secret.key', keyFileText('vendorSecret', nodeRandom(32)))])).toThrow(/--trust-key: .*secret\.key is a vendor secret key/);
    expect(() => parseSimArgs([...base, '--trust-key', file('small.pub', keyFileText('vendorPublic', Uint8Array.of(1, ...new Uint8Array(31))))])).toThrow(/--trust-key: .*small-order point/);
  });
});
