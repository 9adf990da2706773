import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { CHECK_CODES, readPublicKey, readSigningKey, type StagingCheck } from '../../main/firmware/index.js';
import { toHex } from '../../main/grep/index.js';
import { parseSimArgs } from '../../sim/args.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { grepctlIn, PAIRING_KEY } from '../support/grepctl.js';

/*
 * grepctl fw as an operator runs it: real child processes, a store file, and the simulated DC over real
 * TCP with 20 meters of one model that trust the vendor key made by `grepctl fw keygen`. keygen, pack
 * and inspect need neither the store nor the DC; stage must refuse every bad package by name and keep
 * nothing; a campaign must really reach the simulated meters' slots and switch them.
 */

const MODEL = 'GX-100';
const METERS = 20;

let dir: string;
let sim: RunningSimulator;
const path = (name: string) => join(dir, name);
const { outputs, start, grepctl, json } = grepctlIn(() => dir);

async function packed(name: string, options: { seq: number; model?: string; key?: string; image?: Uint8Array }): Promise<string> {
  const image = path(`${name}.bin`);
  writeFileSync(image, options.image ?? randomBytes(2_000));
  const out = path(`${name}.grpf`);
  const run = await grepctl(['fw', 'pack', '--image', image, '--model', options.model ?? MODEL, '--version', `1.${options.seq}`, '--seq', String(options.seq), '--key', options.key ?? path('vendor.key'), '--vendor', 'Acme', '-o', out]);
  expect(run.code, run.stderr).toBe(0);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grepctl-fw-'));
  expect((await grepctl(['init'])).code).toBe(0);
  const group = await json(['group', 'create', '--name', 'feeder-9', '--planned-size', String(METERS), '--id', '9']);
  writeFileSync(path('km.pub'), group.kmPublicKey);
  writeFileSync(path('pairing.key'), PAIRING_KEY);
  expect((await grepctl(['fw', 'keygen', '-o', path('vendor')])).code).toBe(0);
  sim = await startSimulator(parseSimArgs([
    '--tcp', '127.0.0.1:0', '--meters', String(METERS), '--group', '9', '--rate', '200000', '--latency', '2', '--seed', '5', '--model', MODEL,
    '--vendor-key', path('vendor.pub'), '--pairing-key', path('pairing.key'), '--km-public-key', path('km.pub'), '--fleet-out', path('fleet.csv'),
  ]));
  expect((await grepctl(['dc', 'add', '--name', 'dc-9', '--tcp', `127.0.0.1:${sim.endpoint.tcpPort}`, '--pairing-key', path('pairing.key')])).code).toBe(0);
  expect((await json(['commission', '--csv', path('fleet.csv'), '--yes'])).result.converged).toBe(true);
}, 120_000);

afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('grepctl fw: keys and package files', () => {
  it('writes an owner-only signing key and its public key, and never overwrites either', async () => {
    const made = await json(['fw', 'keygen', '-o', path('operator')]);
    expect(statSync(path('operator.key')).mode & 0o777).toBe(0o600);
    const publicKey = toHex(readPublicKey(path('operator.pub')));
    expect(made).toMatchObject({ ok: true, secretKeyFile: path('operator.key'), publicKeyFile: path('operator.pub'), publicKey });
    const secret = readFileSync(path('operator.key'), 'utf8');
    expect(secret).toMatch(/^-----BEGIN GREP VENDOR SECRET KEY-----\n[0-9a-f]{64}\n-----END GREP VENDOR SECRET KEY-----\n$/);
    expect(toHex(nodeCrypto.publicKey(readSigningKey(path('operator.key'))))).toBe(publicKey);

    const again = await grepctl(['fw', 'keygen', '-o', path('operator')]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('never overwritten');
    expect(readFileSync(path('operator.key'), 'utf8')).toBe(secret);
    expect(toHex(readPublicKey(path('operator.pub')))).toBe(publicKey);
    // a lone .pub left over is refused too: the pair would not match
    writeFileSync(path('lone.pub'), readFileSync(path('operator.pub')));
    expect((await grepctl(['fw', 'keygen', '-o', path('lone')])).code).toBe(2);
  });

  it('packs an image and inspects it back: manifest, sizes, digests', async () => {
    const image = randomBytes(3_000);
    const file = await packed('round-trip', { seq: 7, image });
    const bytes = readFileSync(file);
    const shown = await json(['fw', 'inspect', file]);
    expect(shown).toMatchObject({
      ok: true,
      intact: true,
      manifest: { vendor: 'Acme', model: MODEL, version: '1.7', sequence: 7, size: 3_000, digest: toHex(nodeCrypto.sha256(image)) },
      bytes: { package: bytes.length, signature: 64, image: 3_000 },
      packageDigest: toHex(nodeCrypto.sha256(bytes)),
    });
    expect(shown.bytes.manifest + 64 + 3_000 + 7).toBe(bytes.length);
    const text = await grepctl(['fw', 'inspect', file]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${MODEL} version 1.7 (sequence 7)`);
  });

  it('refuses to pack over an existing file or with a key file it cannot read', async () => {
    const file = await packed('kept', { seq: 2 });
    const before = readFileSync(file);
    const over = await grepctl(['fw', 'pack', '--image', path('kept.bin'), '--model', MODEL, '--version', 'x', '--seq', '3', '--key', path('vendor.key'), '-o', file]);
    expect(over.code).toBe(2);
    expect(over.stderr).toContain('never overwritten');
    expect(readFileSync(file).equals(before)).toBe(true);
    const wrongKey = await grepctl(['fw', 'pack', '--image', path('kept.bin'), '--model', MODEL, '--version', 'x', '--seq', '3', '--key', path('vendor.pub.missing'), '-o', path('never.grpf')]);
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('--key');
  });

  it('reports a truncated, a foreign and a tampered file with exit 6', async () => {
    const good = readFileSync(await packed('to-break', { seq: 2 }));
    writeFileSync(path('truncated.grpf'), good.subarray(0, 90));
    const truncated = await grepctl(['fw', 'inspect', path('truncated.grpf')]);
    expect(truncated.code).toBe(6);
    expect(truncated.stderr).toContain('is not a readable firmware package');
    expect((await json(['fw', 'inspect', path('truncated.grpf')], 6)).error.code).toBe('FORMAT');

    writeFileSync(path('foreign.grpf'), Buffer.from('MZ this is not firmware at all, only text'));
    expect((await grepctl(['fw', 'inspect', path('foreign.grpf')])).stderr).toContain('bad magic');

    const tampered = Buffer.from(good);
    tampered[tampered.length - 1]! ^= 0x01;
    writeFileSync(path('tampered.grpf'), tampered);
    const shown = await json(['fw', 'inspect', path('tampered.grpf')], 6);
    expect(shown).toMatchObject({ ok: false, intact: false, problems: ['the image SHA-256 differs from the manifest'] });

    expect((await grepctl(['fw', 'inspect', path('nowhere.grpf')])).code).toBe(2);
  });
});

describe('grepctl fw: staging and a campaign against the simulated DC', () => {
  async function refused(file: string, check: StagingCheck) {
    const run = await grepctl(['fw', 'stage', file]);
    expect(run.code, run.stderr).toBe(6);
    expect(run.stdout).toContain(`${check} check failed`);
    const doc = await json(['fw', 'stage', file], 6);
    expect(doc).toMatchObject({ ok: false, staged: null, error: { code: CHECK_CODES[check], check } });
    expect(doc.checks.map((result: any) => result.check)).toEqual(['format', 'signature', 'size', 'digest', 'model', 'sequence', 'trust']);
    expect(doc.checks.find((result: any) => result.check === check).status).toBe('failed');
    return doc;
  }

  it('refuses an untrusted, a foreign-model, a rollback and a corrupt package, naming the check, and keeps none', async () => {
    await refused(await packed('untrusted-yet', { seq: 2 }), 'signature');
    // the simulated meters were started with --vendor-key vendor.pub: --model records it for their model too
    const trusted = await json(['fw', 'trust', '--key', path('vendor.pub'), '--label', 'acme', '--model', MODEL]);
    expect(trusted.trusted).toEqual([expect.objectContaining({ label: 'acme', publicKey: toHex(readPublicKey(path('vendor.pub'))) })]);
    expect(trusted.models.find((entry: any) => entry.model === MODEL)).toMatchObject({ members: METERS, keys: [{ label: 'acme' }] });
    const again = await grepctl(['fw', 'trust', '--key', path('vendor.pub'), '--label', 'acme-2']);
    expect(again.stdout).toContain('already trusted as acme');
    expect((await grepctl(['fw', 'trust', '--key', path('km.pub.missing'), '--label', 'x'])).code).toBe(2);

    expect((await grepctl(['fw', 'keygen', '-o', path('intruder')])).code).toBe(0);
    await refused(await packed('wrong-key', { seq: 2, key: path('intruder.key') }), 'signature');
    await refused(await packed('wrong-model', { seq: 2, model: 'ZX-9' }), 'model');
    await refused(await packed('rollback', { seq: 1 }), 'sequence');
    const corrupt = await refused(path('truncated.grpf'), 'format');
    expect(corrupt.checks.filter((result: any) => result.status === 'skipped')).toHaveLength(6);

    expect((await json(['fw', 'packages'])).packages).toEqual([]);
    // sixteen grepctl processes, each opening the store under the real scrypt cost
  }, 150_000);

  it('stages, pushes to every meter, activates, and the simulated meters run the new image', async () => {
    const image = randomBytes(2_500);
    const staged = await json(['fw', 'stage', await packed('release', { seq: 2, image })]);
    expect(staged.checks.every((result: any) => result.status === 'passed')).toBe(true);
    const packageId = staged.staged.id;
    expect((await json(['fw', 'packages'])).packages).toEqual([expect.objectContaining({ id: packageId, manifest: expect.objectContaining({ sequence: 2 }) })]);

    const pushed = start(['fw', 'push', String(packageId), '--block-size', '256', '--timeout', '120', '--json']);
    const run = await pushed.done;
    expect(run.code, run.stderr).toBe(0);
    const push = JSON.parse(run.stdout);
    expect(push).toMatchObject({ ok: true, done: true, campaign: { status: 'distributed', totalBlocks: 10, meters: METERS, counts: { verified: METERS, failed: 0 } } });
    expect(run.stderr).toMatch(/campaign \d+ distributing, round 1/);
    const id = push.campaign.id;

    const status = await json(['fw', 'status', String(id)]);
    expect(status.campaign.perMeter).toHaveLength(METERS);
    for (const meter of status.campaign.perMeter) expect(meter).toMatchObject({ state: 'verified', received: 10 });
    for (const meter of sim.fleet.meters.values()) expect(meter.firmware.slot).toMatchObject({ campaign: id, state: 'verified' });
    expect((await json(['fw', 'status'])).campaigns).toEqual([expect.objectContaining({ id, status: 'distributed' })]);

    const unconfirmed = await json(['fw', 'activate', String(id)], 3);
    expect(unconfirmed).toMatchObject({ ok: false, confirmed: false, campaign: { status: 'distributed' } });
    const activated = await json(['fw', 'activate', String(id), '--yes', '--timeout', '120']);
    expect(activated).toMatchObject({ ok: true, done: true, campaign: { status: 'completed', counts: { activated: METERS, failed: 0 } } });
    for (const meter of sim.fleet.meters.values()) {
      expect(meter.firmware.running).toEqual({ version: '1.2', sequence: 2 });
      expect(Buffer.from(meter.firmware.runningImage!).equals(image)).toBe(true);
    }
    // once a meter runs sequence 2, staging refuses it again as a rollback
    await refused(path('release.grpf'), 'sequence');
  }, 300_000);

  it('leaves an interrupted push stored; resume drives it on; cancel asks first', async () => {
    const staged = await json(['fw', 'stage', await packed('next', { seq: 3, image: randomBytes(40_000) })]);
    const pushed = start(['fw', 'push', String(staged.staged.id), '--block-size', '128', '--timeout', '120']);
    await expect.poll(() => pushed.run.stderr, { timeout: 30_000 }).toMatch(/distributing/);
    pushed.child.kill('SIGINT');
    const interrupted = await pushed.done;
    expect(interrupted.code, interrupted.stderr).toBe(130);
    expect(interrupted.stdout).toContain('interrupted: the campaign stays stored');
    const [campaign] = (await json(['fw', 'status'])).campaigns.filter((row: any) => row.packageId === staged.staged.id);
    expect(['distributing', 'distributed']).toContain(campaign.status);

    expect((await json(['fw', 'pause', String(campaign.id)])).campaign.status).toBe('paused');
    const resumed = await json(['fw', 'resume', String(campaign.id), '--timeout', '120']);
    expect(resumed).toMatchObject({ done: true, campaign: { status: 'distributed', counts: { verified: METERS } } });

    expect((await json(['fw', 'cancel', String(campaign.id)], 3)).confirmed).toBe(false);
    expect((await json(['fw', 'status', String(campaign.id)])).campaign.status).toBe('distributed');
    expect((await json(['fw', 'cancel', String(campaign.id), '--yes'])).campaign.status).toBe('cancelled');
    expect((await grepctl(['fw', 'activate', String(campaign.id), '--yes'])).code).toBe(1);
  }, 300_000);

  it('exits 5 when the DC does not answer, and no campaign is created', async () => {
    const before = (await json(['fw', 'status'])).campaigns.length;
    const staged = await json(['fw', 'stage', await packed('unsent', { seq: 4 })]);
    expect((await grepctl(['dc', 'add', '--name', 'nowhere', '--tcp', '127.0.0.1:1', '--pairing-key', path('pairing.key')])).code).toBe(0);
    const run = await grepctl(['fw', 'push', String(staged.staged.id), '--dc', 'nowhere', '--timeout', '2']);
    expect(run.code, run.stderr).toBe(5);
    expect(run.stderr).toContain('127.0.0.1:1');
    expect((await json(['fw', 'status'])).campaigns).toHaveLength(before);
    expect((await grepctl(['fw', 'push', '99', '--dc', 'dc-9'])).code).toBe(2);
  });

  it('never printed a signing key', () => {
    const printed = outputs.join('\n').toLowerCase();
    for (const name of ['vendor', 'operator', 'intruder']) expect(printed).not.toContain(toHex(readSigningKey(path(`${name}.key`))));
  });
});
