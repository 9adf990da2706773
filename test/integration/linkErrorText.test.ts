import { createConnection, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../main/grep/random.js';
import { DcLink, type DcReport, type LinkState } from '../../main/link/client.js';
import { DcEndpoint, type EndpointState } from '../../main/link/endpoint.js';
import { encodeFrame } from '../../main/link/frame.js';
import { tcpConnector } from '../../main/link/transport.js';
import { waitFor } from '../support/net.js';

const KEY = seededRandom(1)(32);
/** would clear an operator's terminal and then print a line that looks like the link came up */
const HOSTILE = '\x1b[2J link up\n';
const ESCAPED = '\\x1b[2J link up\\x0a';
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** a cleartext handshake error frame claiming "authentication failed" (code 1), as anyone on the path can write it */
const forgedError = encodeFrame('error', 0, Uint8Array.of(1, ...new TextEncoder().encode(HOSTILE)));

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startEndpoint(): Promise<DcEndpoint> {
  const endpoint = new DcEndpoint({ pairingKey: KEY, tcp: { host: '127.0.0.1', port: 0 }, onTransfer: () => undefined });
  await endpoint.start();
  cleanups.push(() => endpoint.close());
  return endpoint;
}

/** A man in the middle who answers the KM's first hello with the forged error frame and passes later connections through. */
async function forgingProxy(target: number): Promise<number> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((inbound) => {
    sockets.add(inbound);
    inbound.on('error', () => undefined);
    if (++connections === 1) {
      inbound.once('data', () => inbound.write(forgedError));
      return;
    }
    const outbound = createConnection({ host: '127.0.0.1', port: target });
    sockets.add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const end = () => (inbound.destroy(), outbound.destroy());
    inbound.on('close', end);
    outbound.on('close', end).on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  }));
  return (server.address() as { port: number }).port;
}

describe('error text from the other end of the link (security issue 10)', () => {
  it('a forged error frame before authentication is shown escaped and unverified, and the KM reconnects at the ordinary pace', async () => {
    const endpoint = await startEndpoint();
    const port = await forgingProxy(endpoint.tcpPort!);
    const link = new DcLink({ connect: tcpConnector({ host: '127.0.0.1', port }), pairingKey: KEY });
    cleanups.push(() => link.stop());
    const states: LinkState[] = [];
    link.on('state', (state) => states.push(state));
    const started = Date.now();
    link.start();
    await waitFor('the KM up on its second connection', () => link.state.state === 'up', 5_000);
    const upMs = Date.now() - started;

    expect(states.map((s) => s.state)).toEqual(['connecting', 'authenticating', 'down', 'connecting', 'authenticating', 'up']);
    const down = states[2] as Extract<LinkState, { state: 'down' }>;
    expect(down.reason.code).toBe('PEER_ERROR');
    expect(down.reason.message).toContain(ESCAPED);
    expect(down.reason.message).toMatch(/unauthenticated peer/);
    expect(down.reason.message).toMatch(/unverified/);
    expect(down.reason.message).not.toMatch(CONTROL);
    // an ordinary failed connection's backoff (at most DEFAULT_BACKOFF.initialMs), not the 30 s of a refused key
    expect(down.retryInMs).toBeLessThanOrEqual(200);
    expect(upMs).toBeLessThan(2_000);
  });

  it("the DC's authenticated error text reaches the KM's listeners with its control characters escaped", async () => {
    const endpoint = await startEndpoint();
    const link = new DcLink({ connect: tcpConnector({ host: '127.0.0.1', port: endpoint.tcpPort! }), pairingKey: KEY });
    cleanups.push(() => link.stop());
    const heard: DcReport[] = [];
    link.on('message', (message) => heard.push(message));
    link.start();
    await waitFor('up', () => link.state.state === 'up', 5_000);
    endpoint.send({ kind: 'error', code: 7, message: `meter 12 ${HOSTILE}\u202eevil` });
    await waitFor('the error', () => heard.length === 1, 5_000);
    expect(heard).toEqual([{ kind: 'error', code: 7, message: `meter 12 ${ESCAPED}\\u202eevil` }]);
  });

  it("a stranger's error frame reaches the DC's state events (the simulator's log) escaped and unverified", async () => {
    const endpoint = await startEndpoint();
    const refused: EndpointState[] = [];
    endpoint.on('state', (state) => state.state === 'refused' && refused.push(state));
    const stranger = createConnection({ host: '127.0.0.1', port: endpoint.tcpPort! });
    cleanups.push(() => void stranger.destroy());
    stranger.on('error', () => undefined);
    const hello = encodeFrame('hello', 0, Uint8Array.of(1, ...new Uint8Array(16)));
    stranger.once('data', () => stranger.write(forgedError));
    stranger.write(hello);
    await waitFor('the DC to refuse the stranger', () => refused.length === 1, 5_000);
    const { reason } = refused[0] as Extract<EndpointState, { state: 'refused' }>;
    expect(reason.code).toBe('PEER_ERROR');
    expect(reason.message).toContain(ESCAPED);
    expect(reason.message).toMatch(/unverified/);
    expect(reason.message).not.toMatch(CONTROL);
  });
});
