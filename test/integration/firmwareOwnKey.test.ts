import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPublicKey } from '../../main/firmware/index.js';
import { toHex } from '../../main/grep/index.js';
import { DEMO_VENDOR_KEY_PATH } from '../../sim/args.js';
import { grepctlIn, PAIRING_KEY } from '../support/grepctl.js';
import { type SimProcess, startSimProcess } from '../support/simProcess.js';

/*
 * Issue 15: the README's own firmware path with an operator's own signing key, as an operator runs it:
 * real grepctl processes against `npm run sim` as a real process over TCP. The simulated meters trust
 * the demo vendor key and, with --trust-key, the operator's key; the Key Manager must know which (fw
 * trust --model) and refuse a package the meters would reject before a single frame goes out.
 */

const MODEL = 'GX-110 single-phase';
const METERS = 8;
/** a model the store has no record for: staging warns, and push refuses once the record says otherwise */
const OWN_MODEL = 'AX-9 prepayment';

let root: string;
let sim: SimProcess | undefined;
let bare: SimProcess | undefined;
const readme = () => join(root, 'readme');
const other = () => join(root, 'other');
const at = (dir: string, name: string) => join(dir, name);
const km = grepctlIn(readme);
const second = grepctlIn(other);

/** init, a group, the DC profile for a `npm run sim` started with `simArgs`, and every meter commissioned. */
async function fleet(ctl: typeof km, dir: string, group: number, model: string, meters: number, simArgs: string[]): Promise<SimProcess> {
  mkdirSync(dir, { recursive: true });
  expect((await ctl.grepctl(['init'])).code).toBe(0);
  const created = await ctl.json(['group', 'create', '--name', `substation-${group}`, '--planned-size', String(meters), '--id', String(group)]);
  writeFileSync(at(dir, 'km.pub'), created.kmPublicKey);
  writeFileSync(at(dir, 'pairing.key'), PAIRING_KEY);
  const process = await startSimProcess([
    '--tcp', '127.0.0.1:0', '--meters', String(meters), '--group', String(group), '--rate', '200000', '--latency', '2', '--seed', String(group),
    '--model', model, '--pairing-key', at(dir, 'pairing.key'), '--km-public-key', at(dir, 'km.pub'), '--fleet-out', at(dir, 'fleet.csv'), ...simArgs,
  ]);
  expect((await ctl.grepctl(['dc', 'add', '--name', `dc-${group}`, '--tcp', `127.0.0.1:${process.port}`, '--pairing-key', at(dir, 'pairing.key')])).code).toBe(0);
  expect((await ctl.json(['commission', '--csv', at(dir, 'fleet.csv'), '--yes'])).result.converged).toBe(true);
  return process;
}

async function packed(model: string, out: string): Promise<string> {
  writeFileSync(at(readme(), 'meter.bin'), randomBytes(4_000));
  const run = await km.grepctl(['fw', 'pack', '--image', at(readme(), 'meter.bin'), '--model', model, '--version', '2.0.0', '--seq', '2', '--key', at(readme(), 'vendor.key'), '-o', out]);
  expect(run.code, run.stderr).toBe(0);
  return out;
}

const outboxRows = (dir: string) => {
  const db = new Database(at(dir, 'km.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'grep-own-key-'));
  mkdirSync(readme());
  expect((await km.grepctl(['fw', 'keygen', '-o', at(readme(), 'vendor')])).code).toBe(0);
  sim = await fleet(km, readme(), 7, MODEL, METERS, ['--trust-key', at(readme(), 'vendor.pub')]);
}, 120_000);

afterAll(async () => {
  await sim?.stop();
  await bare?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("the README's firmware path with the operator's own key (issue 15)", () => {
  it("refuses at staging, by name, a package the model's meters are recorded not to trust", async () => {
    expect(sim!.output.find((line) => line.startsWith('simulated DC'))).toContain('2 firmware key(s) trusted');
    expect((await km.grepctl(['fw', 'trust', '--key', at(readme(), 'vendor.pub'), '--label', 'acme'])).code).toBe(0);
    const file = await packed(MODEL, at(readme(), 'meter-2.0.0.grepfw'));
    const refused = await km.json(['fw', 'stage', file], 6);
    expect(refused.error).toMatchObject({ code: 'MODEL_DOES_NOT_TRUST_KEY', check: 'trust' });
    expect(refused.error.message).toContain(`meters of model ${MODEL} trust demo vendor (simulator) (${toHex(readPublicKey(DEMO_VENDOR_KEY_PATH)).slice(0, 16)}…); this package is signed by acme`);
    expect(refused.error.message).toContain(`\`grepctl fw trust --model "${MODEL}" <key file>\``);
    expect((await km.json(['fw', 'packages'])).packages).toEqual([]);
  });

  it(`records the model's trust, stages, and pushes to ${METERS} meters that every one verifies and runs`, async () => {
    const vendor = toHex(readPublicKey(at(readme(), 'vendor.pub')));
    const recorded = await km.json(['fw', 'trust', '--model', MODEL, at(readme(), 'vendor.pub')]);
    expect(recorded.models.find((entry: any) => entry.model === MODEL)).toMatchObject({ members: METERS, keys: [{ label: 'demo vendor (simulator)' }, { label: 'acme', publicKey: vendor }] });
    const listed = await km.grepctl(['fw', 'models']);
    expect(listed.stdout).toContain(`${MODEL} (${METERS} members): its meters trust`);
    expect(listed.stdout).toContain(vendor);

    const staged = await km.json(['fw', 'stage', at(readme(), 'meter-2.0.0.grepfw')]);
    expect(staged.checks.find((check: any) => check.check === 'trust')).toMatchObject({ status: 'passed', detail: expect.stringContaining('trust acme') });
    expect(staged.warnings).toEqual([]);
    const started = performance.now();
    const pushed = await km.json(['fw', 'push', String(staged.staged.id), '--timeout', '120']);
    expect(pushed).toMatchObject({ ok: true, done: true, campaign: { status: 'distributed', meters: METERS, counts: { verified: METERS, failed: 0 } } });
    const activated = await km.json(['fw', 'activate', String(pushed.campaign.id), '--yes', '--timeout', '120']);
    expect(activated).toMatchObject({ ok: true, done: true, campaign: { status: 'completed', counts: { activated: METERS, failed: 0 } } });
    console.info(`own-key campaign to ${METERS} meters: ${pushed.campaign.sentBytes} B, ${Math.round(performance.now() - started)} ms to distributed and activated`);
  }, 120_000);

  it('a bad --trust-key file stops npm run sim with exit 2, naming the flag', async () => {
    await expect(startSimProcess(['--tcp', '127.0.0.1:0', '--pairing-key', at(readme(), 'pairing.key'), '--km-public-key', at(readme(), 'km.pub'), '--trust-key', at(readme(), 'vendor.key')]))
      .rejects.toThrow(/exited 2: --trust-key: .*vendor\.key is a vendor secret key/);
  });
});

describe('a model without a record: warned at staging, refused at push once the record disagrees', () => {
  it('warns MODEL_TRUST_UNRECORDED, then refuses the push before a single frame is sent', async () => {
    // meters trusting only the demo key: `npm run sim` without --trust-key
    bare = await fleet(second, other(), 8, OWN_MODEL, 4, []);
    expect((await second.grepctl(['fw', 'trust', '--key', at(readme(), 'vendor.pub'), '--label', 'acme'])).code).toBe(0);
    const file = await packed(OWN_MODEL, at(other(), 'own-model.grepfw'));
    const staged = await second.json(['fw', 'stage', file]);
    expect(staged.warnings).toEqual([{ code: 'MODEL_TRUST_UNRECORDED', message: expect.stringContaining(`no record of the keys meters of model ${OWN_MODEL} trust`) }]);
    expect((await second.grepctl(['fw', 'stage', file])).stdout).toContain('WARNING MODEL_TRUST_UNRECORDED');

    expect((await second.grepctl(['fw', 'trust', '--model', OWN_MODEL, '--label', 'demo vendor', DEMO_VENDOR_KEY_PATH])).code).toBe(0);
    const before = outboxRows(other());
    const push = await second.json(['fw', 'push', String(staged.staged.id), '--timeout', '30'], 6);
    expect(push.error).toMatchObject({ code: 'MODEL_DOES_NOT_TRUST_KEY' });
    expect(push.error.message).toMatch(/trust demo vendor \([0-9a-f]{16}…\); this package is signed by acme .*; nothing was sent$/);
    expect(outboxRows(other())).toBe(before);
    expect((await second.json(['fw', 'status'])).campaigns).toEqual([]);
  }, 120_000);
});
