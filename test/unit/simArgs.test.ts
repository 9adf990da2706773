import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { keyFileText } from '../../main/files/keyFile.js';
import { readPublicKey, readSigningKey } from '../../main/firmware/keys.js';
import { toHex } from '../../main/grep/index.js';
import { DEMO_VENDOR_KEY_PATH, parseSimArgs } from '../../sim/args.js';
import { startSimulator } from '../../sim/simulator.js';

const dir = mkdtempSync(join(tmpdir(), 'grep-sim-args-'));
const pairing = join(dir, 'pairing.key');
const kmKey = join(dir, 'km.pub');
writeFileSync(pairing, '00112233445566778899aabbccddeeff\n');
writeFileSync(kmKey, 'ab'.repeat(32));
const keys = ['--pairing-key', pairing, '--km-public-key', kmKey];
const vendorPub = toHex(nodeCrypto.publicKey(new Uint8Array(32).fill(7)));
const vendorKey = join(dir, 'vendor.pub');
writeFileSync(vendorKey, keyFileText('vendorPublic', nodeCrypto.publicKey(new Uint8Array(32).fill(7))));
const vendorSecret = join(dir, 'vendor.key');
writeFileSync(vendorSecret, keyFileText('vendorSecret', new Uint8Array(32).fill(7)));
// the identity point: small order, so it would accept forged signatures
const smallOrder = join(dir, 'small-order.pub');
writeFileSync(smallOrder, keyFileText('vendorPublic', Uint8Array.of(1, ...new Uint8Array(31))));

describe('npm run sim arguments', () => {
  it('takes the documented flags with their defaults', () => {
    const args = parseSimArgs(['--tcp', '127.0.0.1:4059', '--meters', '1000', '--loss', '0.01', ...keys]);
    expect(args).toMatchObject({ meters: 1000, loss: 0.01, rate: 5000, latency: 50, seed: 1, tcp: { host: '127.0.0.1', port: 4059 } });
    expect(args['pairing-key']).toHaveLength(16);
    expect(args.model).toBeUndefined();
    expect(args['running-sequence']).toBe(1);
    expect(toHex(args['vendor-key'])).toBe(toHex(readPublicKey(DEMO_VENDOR_KEY_PATH)));
  });

  it('takes the firmware flags: one model for every meter, the trusted vendor key, the factory sequence', () => {
    const args = parseSimArgs(['--tcp', '127.0.0.1:1', ...keys, '--model', 'GX-90 prepayment', '--vendor-key', vendorKey, '--running-sequence', '41']);
    expect(args).toMatchObject({ model: 'GX-90 prepayment', 'running-sequence': 41 });
    expect(toHex(args['vendor-key'])).toBe(vendorPub);
  });

  it('the simulator builds every meter with the model and the factory firmware the flags give', async () => {
    const kmPub = join(dir, 'km-real.pub');
    writeFileSync(kmPub, toHex(nodeCrypto.publicKey(new Uint8Array(32).fill(3))));
    const sim = await startSimulator(parseSimArgs(['--tcp', '127.0.0.1:0', '--meters', '3', '--pairing-key', pairing, '--km-public-key', kmPub, '--model', 'GX-90 prepayment', '--running-sequence', '41']));
    try {
      expect([...sim.fleet.meters.values()].map((meter) => [meter.model, meter.firmware.running])).toEqual(
        Array.from({ length: 3 }, () => ['GX-90 prepayment', { version: 'factory', sequence: 41 }]),
      );
    } finally {
      await sim.close();
    }
  });

  it('ships a demo vendor key whose secret half matches its public half', () => {
    const secret = readSigningKey(DEMO_VENDOR_KEY_PATH.replace(/\.pub$/, '.key'));
    expect(toHex(nodeCrypto.publicKey(secret))).toBe(toHex(readPublicKey(DEMO_VENDOR_KEY_PATH)));
  });

  it.each([
    [['--meters', '10', ...keys], /--tcp host:port and\/or --serial/],
    [['--tcp', '127.0.0.1:4059', '--km-public-key', kmKey], /pairing key file is required/],
    [['--tcp', 'localhost', ...keys], /host:port/],
    [['--tcp', '127.0.0.1:70000', ...keys], /65535/],
    [['--tcp', '127.0.0.1:1', '--loss', '1.5', ...keys], /--loss/],
    [['--tcp', '127.0.0.1:1', '--meters', '0', ...keys], /--meters/],
    [['--tcp', '127.0.0.1:1', '--colour', 'red', ...keys], /colour/],
    [['--tcp', '127.0.0.1:1', '--pairing-key', join(dir, 'missing'), '--km-public-key', kmKey], /--pairing-key: .*missing: no such file/],
    [['--tcp', '127.0.0.1:1', '--pairing-key', kmKey, '--km-public-key', pairing], /--km-public-key: .*a KM public key is 32 bytes of hex, not 16/],
    [['--tcp', '127.0.0.1:1', '--pairing-key', vendorSecret, '--km-public-key', kmKey], /--pairing-key: .*vendor\.key is a vendor secret key; this needs a DC pairing key/],
    [['--tcp', '127.0.0.1:1', '--pairing-key', '/dev/zero', '--km-public-key', kmKey], /--pairing-key: \/dev\/zero is a character device, not a regular file/],
    [['--tcp'], /needs a value/],
    [['--tcp', '127.0.0.1:1', ...keys, '--vendor-key', join(dir, 'missing.pub')], /--vendor-key: .*missing\.pub/],
    [['--tcp', '127.0.0.1:1', ...keys, '--vendor-key', pairing], /--vendor-key: .*no key type line/],
    [['--tcp', '127.0.0.1:1', ...keys, '--vendor-key', vendorSecret], /--vendor-key: .*vendor\.key is a vendor secret key; this needs a vendor public key/],
    [['--tcp', '127.0.0.1:1', ...keys, '--vendor-key', smallOrder], /--vendor-key: .*small-order point/],
    [['--tcp', '127.0.0.1:1', ...keys, '--running-sequence', '0'], /--running-sequence/],
    [['--tcp', '127.0.0.1:1', ...keys, '--running-sequence', '1.5'], /--running-sequence/],
    [['--tcp', '127.0.0.1:1', ...keys, '--model', ''], /--model/],
  ])('refuses %j with a message that names the problem', (argv, message) => {
    expect(() => parseSimArgs(argv)).toThrow(message);
  });
});
