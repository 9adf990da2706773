import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { defaultSubgroupCap, fromHex, KeyManager, toHex } from '../../main/grep/index.js';
import { DcLink, type LinkState } from '../../main/link/client.js';
import { type Connector, serialConnector, tcpConnector } from '../../main/link/transport.js';
import { Convergence, type ConvergenceResult, grepSource } from '../../main/ops/convergence.js';
import { linkTransport, observeReports } from '../../main/ops/linkTransport.js';
import { startPtyPair, stopPtyPair, waitFor } from '../support/net.js';
import { type SimProcess, startSimProcess } from '../support/simProcess.js';

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** TCP between the KM and the simulator through the test, so the test can cut the connection mid-stream. */
async function cuttableProxy(target: number): Promise<{ port: number; cut(): void }> {
  const open = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: target });
    open.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => (inbound.destroy(), outbound.destroy());
    for (const socket of [inbound, outbound]) socket.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return {
    port: (server.address() as { port: number }).port,
    cut: () => {
      for (const socket of open) socket.destroy();
      open.clear();
    },
  };
}

interface Setup {
  readonly sim: SimProcess;
  readonly connect: Connector;
  readonly cut: () => Promise<void>;
}

async function setUp(transport: 'tcp' | 'serial', dir: string, files: string[]): Promise<Setup> {
  const common = ['--meters', '50', '--loss', '0.02', '--rate', '100000', '--latency', '5', '--seed', '7', ...files];
  if (transport === 'tcp') {
    const sim = await startSimProcess(['--tcp', '127.0.0.1:0', ...common]);
    cleanups.push(() => sim.stop());
    const proxy = await cuttableProxy(sim.port!);
    return { sim, connect: tcpConnector({ host: '127.0.0.1', port: proxy.port }), cut: async () => proxy.cut() };
  }
  let socat: ChildProcess = await startPtyPair(dir);
  cleanups.push(() => stopPtyPair(socat));
  const sim = await startSimProcess(['--serial', join(dir, 'ttyB'), ...common]);
  cleanups.push(() => sim.stop());
  return {
    sim,
    connect: serialConnector({ path: join(dir, 'ttyA') }),
    cut: async () => {
      await stopPtyPair(socat);
      socat = await startPtyPair(dir);
    },
  };
}

describe('Key Manager and the simulated DC over real links (GREP.md §9)', () => {
  it.each(['tcp', 'serial'] as const)(
    'over %s: 50 joins, a leave and a collusion recovery converge; a cut mid-stream loses nothing',
    async (transport) => {
      const dir = mkdtempSync(join(tmpdir(), 'grep-fleet-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const pairingKey = nodeRandom(16);
      const km = new KeyManager({ groupId: 1, signingKey: nodeRandom(32), subgroupCap: defaultSubgroupCap(50), crypto: nodeCrypto }, nodeRandom);
      writeFileSync(join(dir, 'pairing.key'), toHex(pairingKey));
      writeFileSync(join(dir, 'km.pub'), toHex(km.publicKey));
      const setup = await setUp(transport, dir, [
        '--pairing-key', join(dir, 'pairing.key'),
        '--km-public-key', join(dir, 'km.pub'),
        '--fleet-out', join(dir, 'fleet.csv'),
      ]);
      const meters = readFileSync(join(dir, 'fleet.csv'), 'utf8').trim().split('\n').slice(1).map((line) => {
        const [id, , , nodeKey] = line.split(',');
        return { id: Number(id), nodeKey: fromHex(nodeKey!) };
      });
      expect(meters).toHaveLength(50);

      const link = new DcLink({
        connect: setup.connect,
        pairingKey,
        crypto: nodeCrypto,
        random: nodeRandom,
        backoff: { initialMs: 50, maxMs: 400 },
        timing: { handshakeTimeoutMs: 2_000, keepaliveMs: 200, deadPeerMs: 1_000 },
        ackTimeoutMs: 1_000,
      });
      const states: LinkState[] = [];
      link.on('state', (state) => states.push(state));
      cleanups.push(() => link.stop());
      link.start();
      await waitFor('the link up', () => link.state.state === 'up');

      let transfer = 0;
      const convergence = new Convergence(grepSource(km), linkTransport(link, () => ++transfer), { crypto: nodeCrypto, ackTimeout: 0.5, maxRounds: 20 });
      observeReports(link, convergence);
      const results: ConvergenceResult[] = [];
      for (const [index, meter] of meters.entries()) {
        const executed = km.join(meter, nodeRandom);
        // cut while this join's transfers are on their way
        const cut = index === 25 ? setup.cut() : undefined;
        results.push(await convergence.converge(executed));
        await cut;
      }
      results.push(await convergence.converge(km.remove([meters[10]!.id], { suspected: false }, nodeRandom)));
      results.push(await convergence.converge(km.remove([meters[3]!.id, meters[20]!.id, meters[44]!.id], { suspected: true }, nodeRandom)));

      expect(results.filter((r) => !r.converged).map((r) => [r.epoch, r.unreachable])).toEqual([]);
      expect(results.at(-1)!.epoch).toBe(km.epoch);
      expect(km.size).toBe(46);
      expect(link.pending()).toEqual([]);
      expect(states.filter((s) => s.state === 'down').length).toBeGreaterThanOrEqual(1);
      expect(states.filter((s) => s.state === 'up').length).toBeGreaterThanOrEqual(2);
      expect(results.reduce((sum, r) => sum + r.replays + r.rebroadcasts + r.resyncs, 0)).toBeGreaterThan(0);
    },
    120_000,
  );
});
