import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSimArgs } from '../../sim/args.js';

const dir = mkdtempSync(join(tmpdir(), 'grep-sim-args-'));
const pairing = join(dir, 'pairing.key');
const kmKey = join(dir, 'km.pub');
writeFileSync(pairing, '00112233445566778899aabbccddeeff\n');
writeFileSync(kmKey, 'ab'.repeat(32));
const keys = ['--pairing-key', pairing, '--km-public-key', kmKey];

describe('npm run sim arguments', () => {
  it('takes the documented flags with their defaults', () => {
    const args = parseSimArgs(['--tcp', '127.0.0.1:4059', '--meters', '1000', '--loss', '0.01', ...keys]);
    expect(args).toMatchObject({ meters: 1000, loss: 0.01, rate: 5000, latency: 50, seed: 1, tcp: { host: '127.0.0.1', port: 4059 } });
    expect(args['pairing-key']).toHaveLength(16);
  });

  it.each([
    [['--meters', '10', ...keys], /--tcp host:port and\/or --serial/],
    [['--tcp', '127.0.0.1:4059', '--km-public-key', kmKey], /pairing key file is required/],
    [['--tcp', 'localhost', ...keys], /host:port/],
    [['--tcp', '127.0.0.1:70000', ...keys], /65535/],
    [['--tcp', '127.0.0.1:1', '--loss', '1.5', ...keys], /--loss/],
    [['--tcp', '127.0.0.1:1', '--meters', '0', ...keys], /--meters/],
    [['--tcp', '127.0.0.1:1', '--colour', 'red', ...keys], /colour/],
    [['--tcp', '127.0.0.1:1', '--pairing-key', join(dir, 'missing'), '--km-public-key', kmKey], /pairing key .*missing/],
    [['--tcp', '127.0.0.1:1', '--pairing-key', kmKey, '--km-public-key', pairing], /KM public key must be 32 bytes/],
    [['--tcp'], /needs a value/],
  ])('refuses %j with a message that names the problem', (argv, message) => {
    expect(() => parseSimArgs(argv)).toThrow(message);
  });
});
