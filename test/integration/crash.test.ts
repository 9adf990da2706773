import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { KeyManager, kgFingerprint, seededRandom, toHex } from '../../main/grep/index.js';
import { KmStore } from '../../main/store/index.js';
import { storeWithSimulatedDc } from '../support/kmBench.js';

const PASSPHRASE = 'crash test passphrase';
const METERS = 30;
const SEED = 5;
const OPERATIONS = 30;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs the KM process until it prints `done` or is killed `killAfterMs` after it is ready; true when it finished. */
async function runKm(path: string, killAfterMs: number): Promise<boolean> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/kmProcess.ts'), path, String(METERS), String(SEED), String(OPERATIONS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GREP_KM_PASSPHRASE: PASSPHRASE },
  });
  const output: string[] = [];
  const exited = once(child, 'exit');
  let timer: NodeJS.Timeout | undefined;
  child.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    output.push(text);
    if (text.includes('ready') && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') return false;
  if (code !== 0) throw new Error(`the KM process exited ${code}: ${output.join('')}`);
  return output.join('').includes('done');
}

describe('Key Manager crash safety (GREP.md §11)', () => {
  it(`killed with SIGKILL at random points during ${OPERATIONS} operations, it restarts and every remaining meter converges`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grep-crash-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'km.db');
    const setup = await storeWithSimulatedDc(path, PASSPHRASE, { meters: METERS, loss: 0.01, seed: SEED });
    const { group, sim } = setup;
    cleanups.push(() => sim.close());
    setup.store.close();

    const random = seededRandom(SEED);
    let crashes = 0;
    while (!(await runKm(path, 50 + (random(1)[0]! / 255) * 700))) {
      crashes++;
      expect(crashes).toBeLessThan(60);
    }
    expect(crashes).toBeGreaterThanOrEqual(3);

    const store = KmStore.open(path, PASSPHRASE);
    cleanups.push(() => store.close());
    const { state, signingKey } = store.groupSecrets(1);
    const km = KeyManager.restore({ groupId: 1, signingKey, subgroupCap: group.subgroupCap, crypto: nodeCrypto }, state, nodeRandom);
    const fingerprint = toHex(kgFingerprint(nodeCrypto, km.groupKey()));
    // each operation ran exactly once, whatever the kills
    const history = store.history(1);
    expect(history).toHaveLength(OPERATIONS);
    history.slice(1).forEach((row, index) => expect(row.epochFrom).toBe(history[index]!.epochTo));
    expect(km.epoch).toBe(history.at(-1)!.epochTo);
    // no member lost or duplicated: the member rows and the KM agree, every meter commissioned once
    const members = store.members(1);
    expect(members.map((m) => m.meterId)).toEqual(Array.from({ length: METERS }, (_, index) => index + 1));
    const current = members.filter((m) => m.status === 'member').map((m) => m.meterId);
    expect(km.size).toBe(current.length);
    expect(current.every((id) => km.has(id))).toBe(true);
    for (const id of current) expect([id, toHex(sim.fleet.get(id).fingerprint)]).toEqual([id, fingerprint]);
    for (const m of members.filter((m) => m.status !== 'member')) expect(toHex(sim.fleet.get(m.meterId).fingerprint)).not.toBe(fingerprint);
    expect(store.pendingOutbox(1)).toEqual([]);
    expect(store.verifyAudit().ok).toBe(true);
    console.log(`crash test: ${crashes} crashes, ${OPERATIONS} operations, ${current.length} members at epoch ${km.epoch}`);
  }, 240_000);
});
