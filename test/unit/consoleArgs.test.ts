import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseConsoleArgs } from '../../main/console/args.js';
import { keyFileText } from '../../main/files/keyFile.js';

const dir = mkdtempSync(join(tmpdir(), 'grep-console-args-'));
const keyFile = join(dir, 'pairing.key');
writeFileSync(keyFile, `${'ab'.repeat(32)}\n`);

describe('npm run console flags', () => {
  test('defaults: a random port, the embedded simulator', () => {
    expect(parseConsoleArgs([])).toEqual({ port: 0, data: undefined, dc: undefined, meters: undefined, loss: undefined, passphrase: undefined });
  });

  test('a real DC over TCP or serial, with its pairing key', () => {
    expect(parseConsoleArgs(['--dc', 'tcp:10.0.0.5:4059', '--pairing-key', keyFile]).dc).toMatchObject({ transport: 'tcp', host: '10.0.0.5', port: 4059 });
    expect(parseConsoleArgs(['--dc', 'serial:/dev/ttyUSB0', '--baud', '9600', '--pairing-key', keyFile]).dc).toMatchObject({ transport: 'serial', path: '/dev/ttyUSB0', baud: 9600 });
  });

  test('every problem is named by its flag, all at once', () => {
    expect(() => parseConsoleArgs(['--bogus', '1', '--port', '70000'])).toThrow(/--port: [\s\S]*--bogus: unknown flag/);
    expect(() => parseConsoleArgs(['--dc', 'tcp:10.0.0.5:4059'])).toThrow('--pairing-key: is required with --dc');
    expect(() => parseConsoleArgs(['--dc', 'udp:x', '--pairing-key', keyFile])).toThrow(/--dc: expected tcp:host:port/);
    expect(() => parseConsoleArgs(['--meters', '20', '--dc', 'tcp:h:1', '--pairing-key', keyFile])).toThrow(/--meters: .*embedded simulator/);
    expect(() => parseConsoleArgs(['--port'])).toThrow('--port needs a value');
    expect(() => parseConsoleArgs(['8080'])).toThrow('unexpected argument 8080');
  });

  test('the files it reads are regular files of their kind, read through the bounded reader', () => {
    expect(() => parseConsoleArgs(['--passphrase-file', dir])).toThrow(`--passphrase-file: ${dir} is a directory, not a regular file: a passphrase file must be a file`);
    const vendorKey = join(dir, 'vendor.key');
    writeFileSync(vendorKey, keyFileText('vendorSecret', new Uint8Array(32).fill(1)));
    expect(() => parseConsoleArgs(['--dc', 'tcp:10.0.0.5:4059', '--pairing-key', vendorKey])).toThrow(`--pairing-key: ${vendorKey} is a vendor secret key; this needs a DC pairing key`);
  });
});
