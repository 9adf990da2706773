import { createConnection, createServer, type Socket } from 'node:net';

export interface DelayProxy {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to `target` that holds every chunk `delayMs` in each direction, as a link with a
 * round trip of 2 × `delayMs` would. Chunks keep their order: timers of one duration fire in the order set.
 */
export async function delayProxy(target: number, delayMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: target });
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    const forward = (to: Socket) => (bytes: Buffer) => setTimeout(() => to.destroyed || to.write(bytes), delayMs);
    inbound.on('data', forward(outbound));
    outbound.on('data', forward(inbound));
    // a close travels the same delayed path, so it never overtakes the data sent before it
    const end = () => setTimeout(() => (inbound.destroy(), outbound.destroy()), delayMs);
    for (const socket of [inbound, outbound]) socket.once('close', end).on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
