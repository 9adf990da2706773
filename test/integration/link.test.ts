import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../main/grep/random.js';
import type { LinkTiming } from '../../main/link/channel.js';
import { DcLink, type LinkState, type Transfer } from '../../main/link/client.js';
import { DcEndpoint, type EndpointState } from '../../main/link/endpoint.js';
import { MAX_MESSAGE_BYTES } from '../../main/link/session.js';
import { type Connector, serialConnector, serialError, tcpConnector } from '../../main/link/transport.js';
import { startPtyPair, stopPtyPair, waitFor } from '../support/net.js';

const TIMING: Partial<LinkTiming> = { handshakeTimeoutMs: 1_500, keepaliveMs: 150, deadPeerMs: 800 };
const BACKOFF = { initialMs: 50, maxMs: 400, refusedMs: 60_000 };
const KEY = seededRandom(1)(32);

/** 500 transfers of every kind; most small, one in ten up to the largest a frame carries. */
function makeTransfers(count: number): Transfer[] {
  const random = seededRandom(2);
  const size = (i: number) => (i % 10 === 7 ? (random(2)[0]! * 256 + random(1)[0]!) % (MAX_MESSAGE_BYTES - 9) : random(1)[0]! * 8);
  return Array.from({ length: count }, (_, transfer): Transfer => {
    if (transfer % 50 === 3) return { kind: 'keyUpdate', transfer, epoch: transfer, kg: random(16) };
    if (transfer % 3 === 1) return { kind: 'unicast', transfer, member: transfer * 7, payload: random(size(transfer)) };
    return { kind: 'broadcast', transfer, payload: random(size(transfer)) };
  });
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Rig {
  readonly link: DcLink;
  readonly endpoint: DcEndpoint;
  readonly delivered: Transfer[];
  readonly accepted: number[];
  readonly linkStates: LinkState[];
  readonly endpointStates: EndpointState[];
}

async function rig(options: {
  endpoint: { tcp?: { host: string; port: number }; serial?: { path: string } };
  connect: (endpoint: DcEndpoint) => Connector;
  kmKey?: Uint8Array;
  onDelivered?: (count: number, endpoint: DcEndpoint) => void;
}): Promise<Rig> {
  const delivered: Transfer[] = [];
  const endpoint: DcEndpoint = new DcEndpoint({
    ...options.endpoint,
    pairingKey: KEY,
    timing: TIMING,
    reopenMs: 50,
    onTransfer: (transfer) => {
      delivered.push(transfer);
      options.onDelivered?.(delivered.length, endpoint);
    },
  });
  await endpoint.start();
  cleanups.push(() => endpoint.close());
  const link = new DcLink({ connect: options.connect(endpoint), pairingKey: options.kmKey ?? KEY, timing: TIMING, backoff: BACKOFF });
  cleanups.push(() => link.stop());
  const rigged: Rig = { link, endpoint, delivered, accepted: [], linkStates: [], endpointStates: [] };
  link.on('accepted', (transfer) => rigged.accepted.push(transfer));
  link.on('state', (state) => rigged.linkStates.push(state));
  endpoint.on('state', (state) => rigged.endpointStates.push(state));
  link.start();
  return rigged;
}

/** A transfer in one line: a deep comparison of megabytes of payload is slower than the link itself. */
function describeTransfer(t: Transfer): string {
  const body = t.kind === 'keyUpdate' ? t.kg : t.payload;
  const target = t.kind === 'unicast' ? t.member : t.kind === 'keyUpdate' ? t.epoch : '';
  return `${t.kind} ${t.transfer} ${target} ${body.length} ${createHash('sha256').update(body).digest('hex')}`;
}

/** Every transfer reached the handler exactly once, in order, intact; the KM saw each accepted once, in order. */
function expectDeliveredOnce(r: Rig, transfers: Transfer[]): void {
  expect(r.delivered.map((t) => t.transfer)).toEqual(transfers.map((t) => t.transfer));
  expect(r.delivered.map(describeTransfer)).toEqual(transfers.map(describeTransfer));
  expect(r.accepted).toEqual(transfers.map((t) => t.transfer));
  expect(r.link.pending()).toEqual([]);
}

const tcp = { host: '127.0.0.1', port: 0 };
const tcpTo = (endpoint: DcEndpoint) => tcpConnector({ host: '127.0.0.1', port: endpoint.tcpPort! });

describe('DC link over TCP', () => {
  it('authenticates and delivers 500 transfers of random sizes once each, in order', async () => {
    const transfers = makeTransfers(500);
    const r = await rig({ endpoint: { tcp }, connect: tcpTo });
    for (const transfer of transfers) r.link.send(transfer);
    await waitFor('every transfer accepted', () => r.accepted.length === transfers.length);
    expectDeliveredOnce(r, transfers);
    expect(r.linkStates.map((s) => s.state)).toEqual(['connecting', 'authenticating', 'up']);
    expect(r.endpointStates.map((s) => s.state)).toEqual(['up']);
    expect(r.endpoint.isUp).toBe(true);
  });

  it('reconnects with backoff after the DC drops the socket mid-stream, losing and duplicating nothing', async () => {
    const transfers = makeTransfers(500);
    const cuts = new Set([40, 150, 151, 320, 499]);
    const r = await rig({
      endpoint: { tcp },
      connect: tcpTo,
      onDelivered: (count, endpoint) => {
        if (cuts.has(count)) endpoint.dropSession('test cut');
      },
    });
    for (const transfer of transfers) r.link.send(transfer);
    await waitFor('every transfer accepted', () => r.accepted.length === transfers.length);
    expectDeliveredOnce(r, transfers);
    const downs = r.linkStates.filter((s) => s.state === 'down');
    expect(downs.length).toBeGreaterThanOrEqual(4);
    for (const down of downs) {
      expect(down.retryInMs).toBeGreaterThanOrEqual(BACKOFF.initialMs / 2);
      expect(down.retryInMs).toBeLessThanOrEqual(BACKOFF.maxMs);
    }
    expect(r.linkStates.filter((s) => s.state === 'up').length).toBe(downs.length + 1);
  });

  it('reports a wrong pairing key as refused, retries only slowly, and the DC accepts nothing', async () => {
    const r = await rig({ endpoint: { tcp }, connect: tcpTo, kmKey: seededRandom(3)(32) });
    r.link.send(makeTransfers(1)[0]!);
    await waitFor('refused', () => r.link.state.state === 'refused');
    const refused = r.link.state as Extract<LinkState, { state: 'refused' }>;
    expect(refused.reason.code).toBe('AUTH_FAILED');
    expect(refused.retryInMs).toBe(BACKOFF.refusedMs);
    await waitFor('the DC to refuse too', () => r.endpointStates.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.endpointStates.map((s) => s.state)).toEqual(['refused']);
    expect(r.linkStates.filter((s) => s.state === 'connecting')).toHaveLength(1);
    expect(r.delivered).toEqual([]);
    expect(r.link.pending()).toHaveLength(1);
  });
  it('keeps DC reports made while no KM is connected, bounded, and delivers them once one is', async () => {
    const r = await rig({ endpoint: { tcp }, connect: tcpTo, kmKey: seededRandom(3)(32) });
    await waitFor('refused', () => r.link.state.state === 'refused');
    const statuses = Array.from({ length: 1_030 }, (_, queued) => ({ kind: 'status', status: { meters: 200, queued, epoch: 3, airtimeSeconds: 1.5, queuedSeconds: queued * 0.25 } }) as const);
    for (const status of statuses) r.endpoint.send(status);
    expect(r.endpoint.droppedReports).toBe(6); // the outbox keeps the newest 1,024

    const km = new DcLink({ connect: tcpTo(r.endpoint), pairingKey: KEY, timing: TIMING, backoff: BACKOFF });
    cleanups.push(() => km.stop());
    const heard: unknown[] = [];
    km.on('message', (message) => heard.push(message));
    km.start();
    await waitFor('the kept reports', () => heard.length === 1_024);
    expect(heard).toEqual(statuses.slice(6));
  });

  it('declares a silent peer dead (the line stays open but nothing comes) and reconnects', async () => {
    const proxy = await silenceableProxy();
    const r = await rig({
      endpoint: { tcp },
      connect: (endpoint) => {
        proxy.target = endpoint.tcpPort!;
        return tcpConnector({ host: '127.0.0.1', port: proxy.port });
      },
    });
    await waitFor('up', () => r.link.state.state === 'up');
    proxy.silence();
    await waitFor('down', () => r.link.state.state === 'down', 5_000);
    expect((r.link.state as Extract<LinkState, { state: 'down' }>).reason.code).toBe('PEER_SILENT');
    await waitFor('up again', () => r.link.state.state === 'up', 5_000);
  });
});

/** Forwards TCP to the DC until silenced: then the current connection stays open but carries nothing, like a dead PTY. */
async function silenceableProxy(): Promise<{ port: number; target: number; silence(): void }> {
  const silenced = new Set<Socket>();
  let current: Socket | undefined;
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: proxy.target });
    current = inbound;
    inbound.on('data', (bytes) => silenced.has(inbound) || outbound.write(bytes));
    outbound.on('data', (bytes) => silenced.has(inbound) || inbound.write(bytes));
    const end = () => (inbound.destroy(), outbound.destroy());
    inbound.on('close', end).on('error', end);
    outbound.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const proxy = {
    port: (server.address() as { port: number }).port,
    target: 0,
    silence: () => current && silenced.add(current),
  };
  return proxy;
}

describe('DC link over a serial PTY pair', () => {
  it('delivers 500 transfers once each across a cut (socat killed, a new pair on the same paths)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grep-link-'));
    let socat = await startPtyPair(dir);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => stopPtyPair(socat));
    let cut: Promise<void> | undefined;
    const transfers = makeTransfers(500);
    const r = await rig({
      endpoint: { serial: { path: join(dir, 'ttyB') } },
      connect: () => serialConnector({ path: join(dir, 'ttyA') }),
      onDelivered: (count) => {
        if (count !== 200) return;
        cut = (async () => {
          await stopPtyPair(socat);
          socat = await startPtyPair(dir);
        })();
      },
    });
    for (const transfer of transfers) r.link.send(transfer);
    await waitFor('every transfer accepted', () => r.accepted.length === transfers.length, 25_000);
    await cut;
    expectDeliveredOnce(r, transfers);
    expect(r.linkStates.some((s) => s.state === 'down')).toBe(true);
    expect(r.linkStates.filter((s) => s.state === 'up').length).toBeGreaterThanOrEqual(2);
  });

  it('says what is wrong with a port that cannot be opened', async () => {
    const r = await rig({
      endpoint: { tcp },
      connect: () => serialConnector({ path: '/dev/grep-no-such-port' }),
    });
    await waitFor('down', () => r.link.state.state === 'down');
    expect((r.link.state as Extract<LinkState, { state: 'down' }>).reason.code).toBe('NO_SUCH_PORT');
    const denied = serialError('/dev/ttyUSB0', new Error('Error: Permission denied, cannot open /dev/ttyUSB0'), 'CONNECT_FAILED');
    expect(denied.code).toBe('PERMISSION_DENIED');
    expect(denied.message).toMatch(/dialout/);
  });
});
