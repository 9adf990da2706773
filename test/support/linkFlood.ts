/**
 * A stranger without the pairing key flooding the DC's TCP port from its own process (security issue 10).
 * A bounded loop: `rate` connections a second for `durationMs`, each in turn one of
 *   silent   opens and says nothing
 *   junk     sends bytes that are no frame
 *   hello    sends a well-formed hello (a hello proves nothing, anyone can send one), then holds the connection
 *   wrongKey runs a real KM handshake with a pairing key of its own, which the DC refuses
 * Every socket is held until the DC drops it or the flood ends. Then it closes everything, prints what happened
 * as one JSON line and exits.
 * Usage: node --import tsx test/support/linkFlood.ts <port> <rate> <durationMs>
 */
import { randomBytes } from 'node:crypto';
import { createConnection, type Socket } from 'node:net';
import { nodeCrypto, nodeRandom } from '../../main/crypto/node.js';
import { FrameReader } from '../../main/link/frame.js';
import { LinkSession } from '../../main/link/session.js';

export interface FloodReport {
  readonly opened: number;
  /** flood connections the DC closed while the flood was still running */
  readonly droppedByDc: number;
  readonly elapsedMs: number;
}

const KINDS = ['silent', 'junk', 'hello', 'wrongKey'] as const;

function open(port: number, kind: (typeof KINDS)[number], sockets: Set<Socket>, onDropped: () => void): void {
  const socket = createConnection({ host: '127.0.0.1', port });
  sockets.add(socket);
  socket.on('error', () => undefined);
  // a socket that reads nothing never sees the DC close it
  socket.resume();
  socket.once('close', () => {
    if (sockets.delete(socket)) onDropped();
  });
  if (kind === 'silent') return;
  socket.once('connect', () => {
    if (kind === 'junk') {
      socket.write(randomBytes(64));
      return;
    }
    const stranger = LinkSession.initiator({ crypto: nodeCrypto, random: nodeRandom, pairingKey: randomBytes(32) });
    socket.write(stranger.start());
    if (kind === 'hello') return;
    const reader = new FrameReader();
    socket.on('data', (bytes) => {
      for (const frame of reader.push(bytes).frames) for (const answer of stranger.receive(frame).send) socket.write(answer);
    });
  });
}

async function flood(port: number, rate: number, durationMs: number): Promise<FloodReport> {
  const sockets = new Set<Socket>();
  let opened = 0;
  let droppedByDc = 0;
  const start = Date.now();
  // a schedule on elapsed time keeps the rate even when a timer tick comes late
  while (Date.now() - start < durationMs) {
    const due = Math.floor(((Date.now() - start) * rate) / 1000);
    for (; opened < due; opened++) open(port, KINDS[opened % KINDS.length]!, sockets, () => droppedByDc++);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const elapsedMs = Date.now() - start;
  const held = [...sockets];
  sockets.clear();
  for (const socket of held) socket.destroy();
  return { opened, droppedByDc, elapsedMs };
}

const [port, rate, durationMs] = process.argv.slice(2).map(Number);
process.stdout.write('flooding\n');
process.stdout.write(`${JSON.stringify(await flood(port!, rate!, durationMs!))}\n`);
