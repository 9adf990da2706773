import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { equalBytes, toHex } from '../../main/grep/index.js';
import { COMMISSION_LIMIT } from '../../main/ops/planning.js';
import { parseSimArgs } from '../../sim/args.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { grepctlIn, PAIRING_KEY } from '../support/grepctl.js';

/*
 * grepctl as an operator runs it: real child processes against a store file, driving the simulated
 * DC over real TCP. stdin is not a terminal here, so anything not confirmed with --yes must be refused.
 */

let dir: string;
let sim: RunningSimulator;
const { outputs, grepctl, json } = grepctlIn(() => dir);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grepctl-'));
  expect((await grepctl(['init'])).code).toBe(0);
  const group = await json(['group', 'create', '--name', 'feeder-7', '--planned-size', '20', '--id', '7']);
  expect(group.kmPublicKey).toMatch(/^[0-9a-f]{64}$/);
  writeFileSync(join(dir, 'km.pub'), group.kmPublicKey);
  writeFileSync(join(dir, 'pairing.key'), PAIRING_KEY);
  sim = await startSimulator(parseSimArgs([
    '--tcp', '127.0.0.1:0', '--meters', '20', '--group', '7', '--rate', '100000', '--latency', '5', '--seed', '3',
    '--pairing-key', join(dir, 'pairing.key'), '--km-public-key', join(dir, 'km.pub'), '--fleet-out', join(dir, 'fleet.csv'),
  ]));
  expect((await grepctl(['dc', 'add', '--name', 'dc-7', '--tcp', `127.0.0.1:${sim.endpoint.tcpPort}`, '--pairing-key', join(dir, 'pairing.key')])).code).toBe(0);
});

afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('grepctl against the simulated DC', () => {
  it('refuses to initialise over an existing store', async () => {
    const run = await grepctl(['init']);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('already exists');
  });

  it('commissions the fleet from its CSV by compact re-seed, the cheapest of the three methods, and every meter acks', async () => {
    const done = await json(['commission', '--csv', join(dir, 'fleet.csv'), '--yes']);
    expect(done.plan.affected).toHaveLength(20);
    expect(done.plan.commissioning.method).toBe('reseed');
    expect(done.plan.messages).toMatchObject({ ROSTER: 1, SEED: 20 });
    expect(done.result).toMatchObject({ converged: true, epochFrom: 0, epoch: 1, unreachable: [] });
  });

  it('shows a leave plan but changes nothing without --yes and without a terminal', async () => {
    const refused = await json(['leave', '7'], 3);
    expect(refused).toMatchObject({ ok: false, confirmed: false, plan: { operation: 'leave', affected: [7] } });
    expect((await json(['status'])).epoch).toBe(1);
  });

  it('executes a leave and a collusion recovery, each converging at a new epoch', async () => {
    expect((await json(['leave', '7', '--yes'])).result).toMatchObject({ converged: true, epochFrom: 1, epoch: 2 });
    const recovered = await json(['recover', '3', '11', '15', '--yes']);
    expect(recovered.plan.affected).toEqual([3, 11, 15]);
    expect(recovered.result).toMatchObject({ converged: true, epochFrom: 2, epoch: 3 });
  });

  it('reports every remaining meter in sync at the epoch the simulated meters really hold', async () => {
    const status = await json(['status']);
    expect(status.epoch).toBe(3);
    const members = status.meters.filter((meter: any) => meter.status === 'member');
    expect(members.map((meter: any) => meter.meterId)).toEqual([1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18, 19, 20]);
    const kg = sim.fleet.get(1).member.groupKey!;
    for (const meter of members) {
      expect(meter.sync).toMatchObject({ status: 'in sync', ackedEpoch: 3 });
      const simulated = sim.fleet.get(meter.meterId);
      expect(simulated.member.epoch).toBe(3);
      expect(equalBytes(simulated.member.groupKey!, kg)).toBe(true);
      expect(meter.sync.fingerprint).toBe(toHex(simulated.fingerprint));
    }
    const removed = Object.fromEntries(status.meters.filter((meter: any) => meter.status !== 'member').map((meter: any) => [meter.meterId, meter.status]));
    expect(removed).toEqual({ 3: 'recovered', 7: 'left', 11: 'recovered', 15: 'recovered' });
    for (const id of [3, 7, 11, 15]) expect(equalBytes(sim.fleet.get(id).member.groupKey!, kg)).toBe(false);
  });

  it('records the history and an intact audit chain', async () => {
    const { history } = await json(['history']);
    expect(history.map((entry: any) => [entry.operation, entry.epochFrom, entry.epochTo, entry.result])).toEqual([
      ['commission', 0, 1, 'converged'],
      ['leave', 1, 2, 'converged'],
      ['recover', 2, 3, 'converged'],
    ]);
    const { audit } = await json(['audit', 'verify']);
    expect(audit.ok).toBe(true);
    expect(audit.rows).toBeGreaterThan(8);
  });

  it('lists the store\'s groups, and finds a meter by id or serial in every group it is or was in', async () => {
    const { groups } = await json(['groups']);
    expect(groups).toEqual([expect.objectContaining({ name: 'feeder-7', id: 7, epoch: 3, members: 16, sync: { 'in sync': 16 }, openCampaigns: 0, lastOperation: expect.objectContaining({ operation: 'recover', epochTo: 3, result: 'converged' }) })]);
    // meter 7 left at epoch 2: an incident responder still finds where it held keys, by id and by serial
    const byId = await json(['find', '7']);
    expect(byId.found).toEqual([expect.objectContaining({ group: 'feeder-7', meterId: 7, status: 'left', joinedEpoch: 1, removedEpoch: 2 })]);
    const serial = byId.found[0].serial as string;
    expect((await json(['find', serial])).found).toEqual(byId.found);
    const nowhere = await grepctl(['find', 'no\u001b[31msuch']);
    expect(nowhere.code).toBe(1);
    // the query comes back escaped: a pasted control sequence never drives the terminal
    expect(nowhere.stdout).toContain('no\\x1b[31msuch: in no group of this store');
    expect(nowhere.stdout).not.toContain('\u001b');
  });

  it('binds the group to its DC: with a second DC profile in the store, commands need --dc until the group is bound', async () => {
    expect((await grepctl(['dc', 'add', '--name', 'dc-spare', '--tcp', '127.0.0.1:1', '--pairing-key', join(dir, 'pairing.key')])).code).toBe(0);
    const ambiguous = await grepctl(['leave', '9']);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('the store has several (dc-7, dc-spare): name one');
    expect((await grepctl(['group', 'bind', '--dc', 'nowhere'])).code).toBe(2);
    expect(await json(['group', 'bind', '--dc', 'dc-7'])).toMatchObject({ group: 'feeder-7', dc: 'dc-7' });
    // the plan is shown and nothing changes without --yes: the DC was found without --dc
    expect(await json(['leave', '9'], 3)).toMatchObject({ confirmed: false, plan: { operation: 'leave', affected: [9] } });
    expect((await json(['groups'])).groups).toEqual([expect.objectContaining({ name: 'feeder-7', dc: 'dc-7' })]);
  });

  it('opens the disconnectors of listed meters and only those', async () => {
    const done = await json(['command', 'open', '--meters', '4', '9', '--yes']);
    expect(done.result).toMatchObject({ action: 'open', confirmed: [4, 9], missing: [] });
    for (const id of [4, 9]) expect(sim.fleet.get(id).disconnector).toBe('open');
    expect(sim.fleet.get(5).disconnector).toBe('closed');
  });

  it('asks before switching every member, naming each one in the plan, and switches them all with --yes', async () => {
    const members = [1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 16, 17, 18, 19, 20];
    const refused = await json(['command', 'close', '--all'], 3);
    expect(refused).toMatchObject({ ok: false, confirmed: false, plan: { operation: 'command', affected: members } });
    expect(sim.fleet.get(4).disconnector).toBe('open');
    const done = await json(['command', 'close', '--all', '--yes']);
    expect(done.result).toMatchObject({ action: 'close', confirmed: members, missing: [] });
    for (const id of members) expect(sim.fleet.get(id).disconnector).toBe('closed');
  });

  it('suspects a meter that left earlier, then re-seeds: the record is empty and a leave is two broadcasts again', async () => {
    const refused = await json(['suspect', '7'], 3);
    expect(refused).toMatchObject({ confirmed: false, meters: [7] });
    expect(refused.cost.withSuspects.bytes).toBeGreaterThan(refused.cost.now.bytes);
    expect(await json(['suspect', '7', '--yes'])).toMatchObject({ suspected: [7], record: 4 });
    // a member is not a departed meter: a bad argument
    expect((await grepctl(['suspect', '8', '--yes'])).code).toBe(2);
    const burdened = await json(['leave', '8'], 3);
    expect(burdened.plan.recordAdds.entries).toBe(4);
    const reseeded = await json(['reseed', '--yes']);
    expect(reseeded.plan.messages).toMatchObject({ ROSTER: 1, SEED: 16 });
    expect(reseeded.result).toMatchObject({ converged: true });
    const plain = await json(['leave', '8'], 3);
    expect(plain.plan.recordAdds).toBeUndefined();
    expect(plain.plan.broadcasts).toBe(2);
    expect(equalBytes(sim.fleet.get(8).member.groupKey!, sim.fleet.get(1).member.groupKey!)).toBe(true);
    for (const gone of [3, 7, 11, 15]) expect(equalBytes(sim.fleet.get(gone).member.groupKey ?? new Uint8Array(16), sim.fleet.get(1).member.groupKey!)).toBe(false);
  });

  it('names the bad flag and exits 2', async () => {
    const unknown = await grepctl(['leave', '4', '--yes', '--colour', 'red']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--colour');
    expect(unknown.stderr).toContain('usage: grepctl leave');
    const malformed = await grepctl(['group', 'create', '--name', 'x', '--planned-size', 'many']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--planned-size');
  });

  it('exits 4 on a wrong passphrase', async () => {
    const run = await grepctl(['status'], { GREP_PASSPHRASE: 'not the passphrase' });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('wrong passphrase');
  });

  it('refuses a CSV over the line limit with TOO_LARGE before it opens the store', async () => {
    const tooMany = join(dir, 'too-many.csv');
    writeFileSync(tooMany, `id,serial,model,nodeKey\n${'1,s,m,k\n'.repeat(COMMISSION_LIMIT.csvMeters + 1)}`);
    // opening the store would refuse this passphrase (exit 4): the CSV is refused before that
    const refused = await json(['commission', '--csv', tooMany, '--yes'], 2, { GREP_PASSPHRASE: 'not the passphrase' });
    expect(refused.error).toMatchObject({ code: 'TOO_LARGE', message: expect.stringContaining('split the file') });
    expect((await json(['status'])).epoch).toBe(4);
  });

  it('exits 5 when the DC does not answer, with the group untouched', async () => {
    expect((await grepctl(['dc', 'add', '--name', 'nowhere', '--tcp', '127.0.0.1:1', '--pairing-key', join(dir, 'pairing.key')])).code).toBe(0);
    const run = await grepctl(['rekey', '--dc', 'nowhere', '--yes', '--timeout', '2']);
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('127.0.0.1:1');
    expect((await json(['status'])).epoch).toBe(4);
  });

  it('restores an encrypted backup only when confirmed and with the backup passphrase', async () => {
    const backup = join(dir, 'km.backup');
    const env = { GREP_BACKUP_PASSPHRASE: 'offsite passphrase' };
    expect((await json(['backup', backup], 0, env)).bytes).toBeGreaterThan(0);
    expect((await json(['restore', backup], 3, env)).restored).toBe(false);
    expect((await grepctl(['restore', backup, '--yes'], { GREP_BACKUP_PASSPHRASE: 'guessed' })).code).toBe(4);
    expect((await json(['restore', backup, '--yes'], 0, env)).restored).toBe(true);
    expect((await json(['status'])).epoch).toBe(4);
    expect((await json(['audit', 'verify'])).audit.ok).toBe(true);
  });

  it('finds an edited audit row and exits 1', async () => {
    const db = new Database(join(dir, 'km.db'));
    db.prepare("UPDATE audit_log SET actor = 'someone else' WHERE id = 3").run();
    db.close();
    const { audit } = await json(['audit', 'verify'], 1);
    expect(audit).toMatchObject({ ok: false, firstBad: 3 });
  });

  it('never printed a node key or the pairing key', () => {
    expect(existsSync(join(dir, 'km.db'))).toBe(true);
    const secrets = [PAIRING_KEY, ...readFileSync(join(dir, 'fleet.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')[3]!)];
    const printed = outputs.join('\n').toLowerCase();
    for (const secret of secrets) expect(printed).not.toContain(secret.toLowerCase());
  });
});
