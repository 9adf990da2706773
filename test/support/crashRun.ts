import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { KeyManager, kgFingerprint, seededRandom, toHex } from '../../main/grep/index.js';
import { KmStore } from '../../main/store/index.js';
import { storeWithSimulatedDc } from './kmBench.js';

/**
 * The crash-safety run behind test/integration/crash.test.ts and `npm run crashtest`: a Key Manager
 * process (kmProcess.ts) runs a fixed sequence of operations against a simulated DC and is killed with
 * SIGKILL at random points until it has crashed `crashes` times; then it runs to the end, and the
 * store, the restored KM and the meters are compared.
 */
export interface CrashRunOptions {
  readonly dir: string;
  readonly crashes: number;
  readonly operations: number;
  readonly meters: number;
  readonly seed: number;
  /** kills land this long after the process says it is ready: min + up to spread ms */
  readonly killAfterMs?: { readonly min: number; readonly spread: number };
}

export interface CrashRunResult {
  readonly crashes: number;
  readonly operations: number;
  /** meters missing from the store, members the KM and the store disagree on, operations run other than once */
  readonly lost: number;
  /** current members whose KG fingerprint is not the KM's */
  readonly desynced: number;
  readonly epoch: number;
  readonly members: number;
  readonly pendingOutbox: number;
  readonly auditOk: boolean;
  /** every operation continued from the epoch the one before it ended at */
  readonly historyChained: boolean;
  /** the last KM run ended with every member acking the last epoch ('done'), or gave up repairing */
  readonly lastRun: 'done' | 'unconverged';
  /** frames still queued on the simulated DC's medium when the check ran */
  readonly dcQueued: number;
}

const PASSPHRASE = 'crash test passphrase';

/**
 * Runs the KM process until it exits, or kills it `killAfterMs` after it is ready. 'unconverged': it ran
 * every operation but some meters had not confirmed the last epoch when it gave up waiting.
 */
async function runKm(path: string, options: CrashRunOptions, killAfterMs: number | undefined): Promise<'killed' | 'done' | 'unconverged'> {
  const script = join(import.meta.dirname, 'kmProcess.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, path, String(options.meters), String(options.seed), String(options.operations)], {
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
    if (killAfterMs !== undefined && text.includes('ready') && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  if (signal === 'SIGKILL') return 'killed';
  if (code !== 0) throw new Error(`the KM process exited ${code}: ${output.join('')}`);
  return output.join('').includes('done') ? 'done' : 'unconverged';
}

export async function crashRun(options: CrashRunOptions): Promise<CrashRunResult> {
  const path = join(options.dir, 'km.db');
  const setup = await storeWithSimulatedDc(path, PASSPHRASE, { meters: options.meters, loss: 0.01, seed: options.seed });
  const { group, sim } = setup;
  setup.store.close();
  try {
    const random = seededRandom(options.seed);
    const { min, spread } = options.killAfterMs ?? { min: 50, spread: 700 };
    let crashes = 0;
    let unconverged = 0;
    let lastRun: 'done' | 'unconverged' = 'unconverged';
    for (;;) {
      const kill = crashes < options.crashes ? min + (random(1)[0]! / 255) * spread : undefined;
      const outcome = await runKm(path, options, kill);
      if (outcome !== 'killed') lastRun = outcome;
      if (outcome === 'done') break;
      if (outcome === 'killed') crashes++;
      // a restart repairs again; a KM that never converges is reported by `desynced`
      else if (++unconverged >= 3) break;
    }
    const store = KmStore.open(path, PASSPHRASE);
    try {
      const { state, signingKey } = store.groupSecrets(group.id);
      const km = KeyManager.restore({ groupId: group.id, signingKey, subgroupCap: group.subgroupCap, crypto: nodeCrypto }, state, nodeRandom);
      const fingerprint = toHex(kgFingerprint(nodeCrypto, km.groupKey()));
      const history = store.history(group.id);
      const rows = store.members(group.id);
      const current = rows.filter((m) => m.status === 'member').map((m) => m.meterId);
      const missing = Array.from({ length: options.meters }, (_, index) => index + 1).filter((id) => !rows.some((m) => m.meterId === id));
      const disagreeing = current.filter((id) => !km.has(id)).length + Math.abs(km.size - current.length);
      return {
        crashes,
        operations: history.length,
        lost: missing.length + disagreeing + Math.abs(history.length - options.operations),
        desynced: current.filter((id) => toHex(sim.fleet.get(id).fingerprint) !== fingerprint).length,
        epoch: km.epoch,
        members: current.length,
        pendingOutbox: store.pendingOutbox(group.id).length,
        auditOk: store.verifyAudit().ok,
        historyChained: history.slice(1).every((row, index) => row.epochFrom === history[index]!.epochTo) && km.epoch === history.at(-1)?.epochTo,
        lastRun,
        dcQueued: sim.dc.status().queued,
      };
    } finally {
      store.close();
    }
  } finally {
    await sim.close();
  }
}
