import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { seededRandom } from '../../main/grep/random.js';
import { DcLink, type LinkState, type Transfer } from '../../main/link/client.js';
import { DcEndpoint } from '../../main/link/endpoint.js';
import { FrameReader } from '../../main/link/frame.js';
import { LinkSession } from '../../main/link/session.js';
import { tcpConnector } from '../../main/link/transport.js';
import { delayProxy } from '../support/delayProxy.js';
import type { FloodReport } from '../support/linkFlood.js';
import { waitFor } from '../support/net.js';

const KEY = seededRandom(1)(32);
const FLOOD_RATE = 200;
const FLOOD_MS = 8_000;
/** the flood fills every handshake slot well within this */
const SATURATION_MS = 1_500;
const CONNECT_WITHIN_MS = 4_000;

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The flooder in its own process, as a stranger on the DC's host would run it. */
function startFlood(port: number): { started: Promise<void>; report: () => Promise<FloodReport>; running: () => boolean } {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/linkFlood.ts'), String(port), String(FLOOD_RATE), String(FLOOD_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
  });
  let output = '';
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  child.stdout!.on('data', (bytes: Buffer) => {
    output += bytes.toString();
    if (output.startsWith('flooding\n')) markStarted();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    started,
    report: async () => {
      const code = await exited;
      if (code !== 0) throw new Error(`the flooder exited with ${code}`);
      return JSON.parse(output.split('\n')[1]!) as FloodReport;
    },
    running: () => child.exitCode === null,
  };
}

describe('DC handshake flood (security issue 10)', () => {
  it('a KM 50 ms away connects within a few seconds while a stranger floods the DC with 200 connections a second', async () => {
    const delivered: Transfer[] = [];
    const endpoint = new DcEndpoint({ pairingKey: KEY, tcp: { host: '127.0.0.1', port: 0 }, onTransfer: (transfer) => delivered.push(transfer) });
    await endpoint.start();
    cleanups.push(() => endpoint.close());
    const proxy = await delayProxy(endpoint.tcpPort!, 50);
    cleanups.push(() => proxy.close());

    const flood = startFlood(endpoint.tcpPort!);
    await flood.started;
    await new Promise((resolve) => setTimeout(resolve, SATURATION_MS));

    const link = new DcLink({ connect: tcpConnector({ host: '127.0.0.1', port: proxy.port }), pairingKey: KEY });
    cleanups.push(() => link.stop());
    const states: LinkState[] = [];
    link.on('state', (state) => states.push(state));
    const started = Date.now();
    link.start();
    await waitFor('the KM to connect through the flood', () => link.state.state === 'up', CONNECT_WITHIN_MS);
    const connectMs = Date.now() - started;
    expect(flood.running()).toBe(true);
    link.send({ kind: 'broadcast', transfer: 1, payload: Uint8Array.of(1, 2, 3) });
    await waitFor('the transfer delivered', () => delivered.length === 1, CONNECT_WITHIN_MS);

    const report = await flood.report();
    // the flood really ran at its rate and the DC had to drop flood connections while it did
    expect(report.opened).toBeGreaterThanOrEqual(0.9 * FLOOD_RATE * (FLOOD_MS / 1000));
    expect(report.droppedByDc).toBeGreaterThan(report.opened / 2);
    // and the handshake stages were full: the KM got through the rule that picks whom to drop, not around it
    expect(endpoint.droppedHandshakes).toBeGreaterThan(0);
    expect(endpoint.isUp).toBe(true);
    console.info(`flood: ${report.opened} connections in ${report.elapsedMs} ms, ${report.droppedByDc} dropped by the DC ` +
      `(${endpoint.droppedHandshakes} for a full stage); ` +
      `KM up after ${connectMs} ms in ${states.filter((s) => s.state === 'connecting').length} attempt(s)`);
  });

  it('keeps a handshake under way through a burst of silent connections, and drops those that say nothing in time', async () => {
    const helloTimeoutMs = 300;
    const endpoint = new DcEndpoint({
      pairingKey: KEY,
      tcp: { host: '127.0.0.1', port: 0 },
      onTransfer: () => undefined,
      maxHandshakes: 2,
      timing: { helloTimeoutMs, handshakeTimeoutMs: 5_000 },
    });
    await endpoint.start();
    cleanups.push(() => endpoint.close());
    const connect = () => {
      const socket = createConnection({ host: '127.0.0.1', port: endpoint.tcpPort! }).on('error', () => undefined);
      cleanups.push(() => void socket.destroy());
      return socket;
    };

    // a KM that has said hello and holds back its proof while the burst arrives
    const km = LinkSession.initiator({ crypto: nodeCrypto, random: nodeRandom, pairingKey: KEY });
    const kmSocket = connect();
    await once(kmSocket, 'connect');
    const reader = new FrameReader();
    const proof: Uint8Array[] = [];
    kmSocket.on('data', (bytes) => {
      for (const frame of reader.push(bytes).frames) proof.push(...km.receive(frame).send);
    });
    kmSocket.write(km.start());
    await waitFor('the hello answered', () => proof.length === 1, 5_000);

    const silent: { socket: Socket; openedAt: number; closedAfter?: number }[] = [];
    for (let i = 0; i < 10; i++) {
      const entry: (typeof silent)[number] = { socket: connect(), openedAt: Date.now() };
      entry.socket.resume().once('close', () => (entry.closedAfter = Date.now() - entry.openedAt));
      silent.push(entry);
    }
    await waitFor('the burst beyond the limit dropped', () => silent.filter((entry) => entry.closedAfter !== undefined).length === 8, 5_000);
    expect(Math.max(...silent.map((entry) => entry.closedAfter ?? 0))).toBeLessThan(helloTimeoutMs);
    kmSocket.write(proof[0]!);
    await waitFor('the KM authenticated', () => km.state === 'up' && endpoint.isUp, 5_000);

    await waitFor('the silent connections closed', () => silent.every((entry) => entry.closedAfter !== undefined), 5_000);
    const late = silent.map((entry) => entry.closedAfter!).sort((a, b) => a - b).slice(-2);
    expect(late[0]).toBeGreaterThanOrEqual(helloTimeoutMs - 20);
    expect(late[1]).toBeLessThan(helloTimeoutMs + 2_000);
    expect(endpoint.droppedHandshakes).toBe(8);
  });
});
