import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandlers } from '../../main/api/handlers.js';
import { Backend } from '../../main/app/backend.js';
import { startConsole } from '../../main/console/server.js';
import { toHex } from '../../main/grep/index.js';
import { ServiceError } from '../../main/ops/errors.js';
import { KeyManagerService } from '../../main/ops/service.js';
import { KmStore } from '../../main/store/index.js';
import { commissioningCsv } from '../../sim/fleet.js';
import type { RunningSimulator } from '../../sim/simulator.js';
import type { ExecutionView, PlanView } from '../../preload/api.js';
import { grepctlIn, PASSPHRASE } from '../support/grepctl.js';
import { committedFingerprint, startKmLink, storeWithSimulatedDc } from '../support/kmBench.js';

/*
 * The audit's HIGH finding: a console holding epoch 50 in memory while grepctl moved the store to 51
 * executed "Leave 6" from its stale state, overwrote the store, and meter 5, shown as left, held the
 * group key again. One writer per store refuses the second process; the epoch check in the commit
 * refuses a stale Key Manager even inside one process.
 */

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'grep-one-writer-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const holds = (sim: RunningSimulator, meter: number, fingerprint: string) => toHex(sim.fleet.get(meter).fingerprint) === fingerprint;

describe('one writer per store', () => {
  it('a stale Key Manager cannot commit: the leave it plans from an old epoch is refused and the removed meter stays out', async () => {
    const dir = tempDir();
    const { store, sim } = await storeWithSimulatedDc(join(dir, 'km.db'), PASSPHRASE, { meters: 8, loss: 0, seed: 5 });
    cleanups.push(() => sim.close(), () => store.close());
    const link = await startKmLink(store);
    cleanups.push(() => link.stop());
    const open = () => {
      const service = KeyManagerService.open({ store, group: 'dc-1', actor: 'operator', link, ackTimeout: 0.5, maxRounds: 20 });
      cleanups.push(() => service.close());
      return service;
    };
    const console = open();
    expect((await console.execute((await console.planCommissionCsv(commissioningCsv(sim.fleet.profiles))).id)).converged).toBe(true);

    // the other writer: the same store, a Key Manager restored from it after the console's last commit
    const other = open();
    const staleLeave = await console.planLeave([6]);
    expect((await other.execute((await other.planLeave([5])).id)).converged).toBe(true);
    const epochAfterLeave = store.groupEpoch(1);
    const history = store.history(1).length;

    const refused = await console.execute(staleLeave.id).then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(ServiceError);
    expect((refused as ServiceError).code).toBe('STALE_STATE');
    expect([store.groupEpoch(1), store.history(1).length]).toEqual([epochAfterLeave, history]);

    // planned again from what the store holds, the leave of 6 keeps 5 out
    expect((await console.execute((await console.planLeave([6])).id)).converged).toBe(true);
    const fingerprint = committedFingerprint(store);
    expect([5, 6].map((meter) => holds(sim, meter, fingerprint))).toEqual([false, false]);
    expect([1, 2, 3, 4, 7, 8].every((meter) => holds(sim, meter, fingerprint))).toBe(true);
  }, 60_000);

  it('grepctl is refused by name while the console operates the store, reads still work, and the console\'s leaves keep meter 5 out', async () => {
    const dir = tempDir();
    const path = join(dir, 'km.sqlite');
    const { store, sim } = await storeWithSimulatedDc(path, PASSPHRASE, { meters: 10, loss: 0, seed: 9 });
    cleanups.push(() => sim.close());
    const { host, port, pairingKey } = store.dcProfile('dc-1') as { host: string; port: number; pairingKey: Uint8Array };
    store.close();

    const backend = new Backend({ dataDir: dir, groupName: 'dc-1', actor: 'operator (console)', dc: { transport: 'tcp', host, port, pairingKey }, ackTimeout: 1, failureDelayMs: 0 });
    const token = 'k'.repeat(64);
    const server = await startConsole({ handlers: createHandlers({ app: { name: 'grep-key-manager', version: 'test' }, backend }), subscribe: (listener) => backend.subscribe(listener), staticDir: dir, token, keepAliveMs: 1_000 });
    cleanups.push(() => backend.close(), () => server.close());
    const api = <T>(name: string, ...args: unknown[]) =>
      new Promise<T>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: server.port, method: 'POST', path: `/api/${name}`, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Host: `127.0.0.1:${server.port}` } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => {
            const parsed = JSON.parse(body) as { ok: true; value: T } | { ok: false; error: { code: string; message: string } };
            if (parsed.ok) resolve(parsed.value);
            else reject(Object.assign(new Error(parsed.error.message), { code: parsed.error.code }));
          });
        });
        req.on('error', reject);
        req.end(JSON.stringify({ args }));
      });

    await api('unlock', PASSPHRASE);
    const commission = await api<PlanView>('planCommissionCsv', commissioningCsv(sim.fleet.profiles));
    expect((await api<ExecutionView>('execute', commission.id, {})).converged).toBe(true);

    const grepctl = grepctlIn(() => dir);
    const env = { GREP_DB: path };
    const busy = await grepctl.start(['leave', '5', '--dc', 'dc-1', '--yes'], env).done;
    expect(busy.code).toBe(7);
    expect(busy.stderr).toMatch(/is being operated by operator \(console\) \(pid \d+ on .+, since /);
    const status = await grepctl.start(['status', '--json'], env).done;
    expect(status.code).toBe(0);
    const epoch = (JSON.parse(status.stdout) as { epoch: number }).epoch;

    const leave5 = await api<PlanView>('planLeave', [5]);
    expect(leave5.epoch).toBe(epoch);
    expect((await api<ExecutionView>('execute', leave5.id, { confirmation: '5' })).converged).toBe(true);
    const leave6 = await api<PlanView>('planLeave', [6]);
    expect((await api<ExecutionView>('execute', leave6.id, { confirmation: '6' })).converged).toBe(true);
    await backend.close();

    // the console is gone: grepctl may operate now, and meter 5 stays out through a third leave
    expect((await grepctl.start(['leave', '7', '--dc', 'dc-1', '--yes'], env).done).code).toBe(0);
    const after = KmStore.open(path, PASSPHRASE, { readOnly: true });
    cleanups.push(() => after.close());
    expect(after.history(1).map((row) => [row.operation, row.epochFrom, row.epochTo])).toEqual([
      ['commission', 0, epoch],
      ['leave', epoch, epoch + 1],
      ['leave', epoch + 1, epoch + 2],
      ['leave', epoch + 2, epoch + 3],
    ]);
    const fingerprint = committedFingerprint(after);
    expect([5, 6, 7].map((meter) => holds(sim, meter, fingerprint))).toEqual([false, false, false]);
    expect([1, 2, 3, 4, 8, 9, 10].every((meter) => holds(sim, meter, fingerprint))).toBe(true);
  }, 120_000);
});
