import { readdir, realpath } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { LinkError, type LinkErrorCode } from './errors.js';

/*
 * Byte streams under the link: TCP (DLMS wrapper port convention, GREP.md §9) and serial. A stream
 * reports opened / data / closed to one sink given at creation, so no byte can arrive before someone
 * listens, and `closed` comes exactly once whatever ended it (our close, the peer, an unplug, a failed open).
 */

export const DEFAULT_TCP_PORT = 4059;
export const DEFAULT_BAUD_RATE = 115_200;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export interface StreamSink {
  opened(): void;
  data(bytes: Uint8Array): void;
  closed(error: LinkError): void;
}

export interface ByteStream {
  /** where the stream leads, for logs and the UI */
  readonly peer: string;
  write(bytes: Uint8Array): void;
  close(): void;
}

/** Opens a stream to the other end; the outcome arrives through the sink. */
export type Connector = (sink: StreamSink) => ByteStream;

export interface TcpOptions {
  readonly host: string;
  readonly port?: number;
  readonly connectTimeoutMs?: number;
}

export function tcpConnector(options: TcpOptions): Connector {
  const port = options.port ?? DEFAULT_TCP_PORT;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return (sink) => {
    const socket = createConnection({ host: options.host, port });
    const stream = socketStream(socket, `tcp ${options.host}:${port}`, sink, false);
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return stream;
  };
}

export interface TcpListener {
  /** the bound port (the real one when 0 was asked for) */
  readonly port: number;
  /** stops listening and drops every accepted connection */
  close(): Promise<void>;
}

/** Each accepted connection is handed over as `attach`, to be called at once with the sink that owns it, with the peer's address. */
export function listenTcp(
  options: { readonly host?: string; readonly port?: number },
  accept: (attach: (sink: StreamSink) => ByteStream, address: string) => void,
): Promise<TcpListener> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const peer = `tcp ${socket.remoteAddress}:${socket.remotePort}`;
    // undefined only when the peer is already gone, and then the socket is closing anyway
    accept((sink) => socketStream(socket, peer, sink, true), socket.remoteAddress ?? '');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_TCP_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}

function socketStream(socket: Socket, peer: string, sink: StreamSink, connected: boolean): ByteStream {
  let failure: LinkError | undefined;
  let closed = false;
  socket.setNoDelay(true);
  socket.on('data', (bytes) => sink.data(bytes));
  socket.on('error', (error) => {
    failure ??= new LinkError(connected ? 'DISCONNECTED' : 'CONNECT_FAILED', `${peer}: ${error.message}`);
  });
  socket.once('close', () => {
    closed = true;
    sink.closed(failure ?? new LinkError('DISCONNECTED', `${peer}: the peer closed the connection`));
  });
  const open = () => {
    connected = true;
    if (!closed) sink.opened();
  };
  if (connected) queueMicrotask(open);
  else socket.once('connect', open);
  return {
    peer,
    write: (bytes) => {
      if (!closed && !socket.destroyed) socket.write(bytes);
    },
    close: () => {
      failure ??= new LinkError('CLOSED', `${peer}: closed`);
      socket.destroy();
    },
  };
}

export interface SerialOptions {
  readonly path: string;
  /** 8N1 always; the rate defaults to 115200 */
  readonly baudRate?: number;
}

export function serialConnector(options: SerialOptions): Connector {
  const { path } = options;
  return (sink) => {
    const peer = `serial ${path}`;
    let failure: LinkError | undefined;
    let closed = false;
    const finish = (error: LinkError) => {
      if (closed) return;
      closed = true;
      sink.closed(error);
    };
    const port = new SerialPort({
      path,
      baudRate: options.baudRate ?? DEFAULT_BAUD_RATE,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      autoOpen: false,
    });
    // a 'data' listener keeps the port reading, and only a reading port notices a hang-up
    port.on('data', (bytes: Buffer) => sink.data(bytes));
    port.on('error', (error: Error) => {
      failure ??= serialError(path, error, port.isOpen ? 'DISCONNECTED' : 'CONNECT_FAILED');
      if (port.isOpen) port.close();
      else finish(failure);
    });
    port.on('close', (error?: { disconnected?: boolean }) => {
      const gone = error?.disconnected ? new LinkError('DISCONNECTED', `${peer}: the port was unplugged or hung up`) : undefined;
      finish(failure ?? gone ?? new LinkError('CLOSED', `${peer}: closed`));
    });
    port.open((error) => {
      if (error) finish(serialError(path, error, 'CONNECT_FAILED'));
      else if (closed) port.close();
      else sink.opened();
    });
    return {
      peer,
      write: (bytes) => {
        if (!closed && port.isOpen) port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      },
      close: () => {
        failure ??= new LinkError('CLOSED', `${peer}: closed`);
        if (port.isOpen) port.close();
        else finish(failure);
      },
    };
  };
}

/** The OS says "Permission denied"; the operator needs to hear what to do about it. */
export function serialError(path: string, error: Error, otherwise: LinkErrorCode): LinkError {
  const message = error.message;
  if (/permission denied|EACCES/i.test(message)) {
    return new LinkError(
      'PERMISSION_DENIED',
      `cannot open ${path}: permission denied. Add the user to the 'dialout' group (sudo usermod -aG dialout $USER), then log out and in again`,
    );
  }
  if (/no such file|ENOENT/i.test(message)) return new LinkError('NO_SUCH_PORT', `cannot open ${path}: no such serial port (unplugged?)`);
  if (/cannot lock|resource temporarily unavailable|EBUSY/i.test(message)) {
    return new LinkError('PORT_BUSY', `cannot open ${path}: another program holds the port`);
  }
  return new LinkError(otherwise, `${path}: ${message}`);
}

export interface SerialPortInfo {
  readonly path: string;
  readonly manufacturer?: string;
  readonly serialNumber?: string;
  readonly vendorId?: string;
  readonly productId?: string;
}

/** Where the enumeration finds ports; injectable so the fallback can be tested without hardware. */
export interface PortSources {
  readonly list?: () => Promise<readonly SerialPortInfo[]>;
  readonly devDir?: string;
}

/** USB adapters by their kernel names, and the stable /dev/serial/by-id links udev makes for them. */
const USB_TTY = /^tty(USB|ACM)\d+$/;

async function scanDevices(devDir: string): Promise<SerialPortInfo[]> {
  const names = async (dir: string) => readdir(dir).catch(() => [] as string[]);
  const byId = (await names(join(devDir, 'serial', 'by-id'))).map((name) => ({ path: join(devDir, 'serial', 'by-id', name) }));
  const ttys = (await names(devDir)).filter((name) => USB_TTY.test(name)).map((name) => ({ path: join(devDir, name) }));
  return [...byId, ...ttys];
}

/**
 * USB and built-in ports. serialport's list needs udev's tools on Linux (it runs udevadm); where they
 * are missing, or it fails for another reason, the adapters are still found by name under /dev. A PTY
 * (socat) or an unusual adapter is listed by neither: the operator types its path.
 */
export async function listSerialPorts(sources: PortSources = {}): Promise<SerialPortInfo[]> {
  const list = sources.list ?? (() => SerialPort.list());
  let listed: readonly SerialPortInfo[] = [];
  try {
    listed = await list();
  } catch {
    // e.g. "spawn udevadm ENOENT": the scan below still finds the usual adapters
  }
  const scanned = process.platform === 'win32' && sources.devDir === undefined ? [] : await scanDevices(sources.devDir ?? '/dev');
  // one entry per device: a by-id link and the tty it points to are the same adapter
  const seen = new Set(await Promise.all(listed.map((port) => realpath(port.path).catch(() => port.path))));
  const found: SerialPortInfo[] = listed.map(({ path, manufacturer, serialNumber, vendorId, productId }) => ({ path, manufacturer, serialNumber, vendorId, productId }));
  for (const port of scanned) {
    const device = await realpath(port.path).catch(() => port.path);
    if (seen.has(device)) continue;
    seen.add(device);
    found.push(port);
  }
  return found;
}
