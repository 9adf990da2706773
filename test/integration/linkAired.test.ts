import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { seededRandom } from '../../main/grep/random.js';
import { DcLink, type DcReport } from '../../main/link/client.js';
import { type Connector, serialConnector, tcpConnector } from '../../main/link/transport.js';
import { startSimulator } from '../../sim/simulator.js';
import { startPtyPair, stopPtyPair, waitFor } from '../support/net.js';

/*
 * The simulated DC tells the KM over the real link (TCP on 127.0.0.1, and a socat PTY pair) when each
 * transfer has finished on its slow medium: `accepted` comes at once, `aired` only once the frame's
 * airtime has passed, with what still waits behind it.
 */

const KEY = seededRandom(21)(32);
/** bit/s: a 200-byte frame holds the medium 0.4 s */
const RATE = 4_000;
const FRAME = 200;
const AIRTIME = (FRAME * 8) / RATE;

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The simulator on `transport`, and the KM's connector to it. */
async function simulatorOver(transport: 'tcp' | 'serial'): Promise<Connector> {
  const common = { meters: 4, loss: 0, seed: 1, baud: 115_200, 'pairing-key': KEY, 'km-public-key': nodeCrypto.publicKey(seededRandom(22)(32)), group: 1, rate: RATE, latency: 0 };
  if (transport === 'tcp') {
    const sim = await startSimulator({ ...common, tcp: { host: '127.0.0.1', port: 0 } });
    cleanups.push(() => sim.close());
    return tcpConnector({ host: '127.0.0.1', port: sim.endpoint.tcpPort! });
  }
  const dir = mkdtempSync(join(tmpdir(), 'grep-aired-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const socat = await startPtyPair(dir);
  cleanups.push(() => stopPtyPair(socat));
  const sim = await startSimulator({ ...common, serial: join(dir, 'ttyB') });
  cleanups.push(() => sim.close());
  return serialConnector({ path: join(dir, 'ttyA') });
}

describe('the DC says when a transfer is off the air', () => {
  it.each(['tcp', 'serial'] as const)('over %s: accepted at once, aired after its airtime, with the backlog behind it', async (transport) => {
    const link = new DcLink({ connect: await simulatorOver(transport), pairingKey: KEY });
    cleanups.push(() => link.stop());
    const heard: { readonly at: number; readonly message: DcReport }[] = [];
    const accepted: { readonly at: number; readonly transfer: number }[] = [];
    link.on('message', (message) => heard.push({ at: performance.now(), message }));
    link.on('accepted', (transfer) => accepted.push({ at: performance.now(), transfer }));
    link.start();
    await waitFor('up', () => link.state.state === 'up', 10_000);

    const start = performance.now();
    link.send({ kind: 'broadcast', transfer: 1, payload: new Uint8Array(FRAME) });
    link.send({ kind: 'unicast', transfer: 2, member: 3, payload: new Uint8Array(FRAME) });
    const aired = () => heard.flatMap(({ at, message }) => (message.kind === 'aired' ? [{ at, ...message }] : []));
    await waitFor('both transfers aired', () => aired().flatMap((message) => message.transfers).length === 2, 10_000);

    const messages = aired();
    expect(messages.map((message) => message.transfers)).toEqual([[1], [2]]);
    expect(accepted.map((entry) => entry.transfer)).toEqual([1, 2]);
    // the DC held both long before the first was off the air
    expect(Math.max(...accepted.map((entry) => entry.at))).toBeLessThan(messages[0]!.at);
    // one frame's airtime, then the second's (the timers may round down by a millisecond)
    expect(messages[0]!.at - start).toBeGreaterThanOrEqual(AIRTIME * 1000 - 2);
    expect(messages[1]!.at - start).toBeGreaterThanOrEqual(2 * AIRTIME * 1000 - 2);
    // the unicast was on the air when the broadcast's batch left; nothing after it
    expect(messages[0]).toMatchObject({ queued: 1 });
    expect(messages[0]!.queuedSeconds).toBeGreaterThan(0);
    expect(messages[0]!.queuedSeconds).toBeLessThanOrEqual(AIRTIME);
    expect(messages[1]).toMatchObject({ queued: 0, queuedSeconds: 0 });
  });
});
