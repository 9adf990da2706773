import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFileText, readKeyFile } from '../../main/files/keyFile.js';
import { INPUT_FILES, readInputFile } from '../../main/files/readBounded.js';
import { MAX_IMAGE_BYTES, MAX_PACKAGE_BYTES } from '../../main/firmware/package.js';
import { toHex } from '../../main/grep/index.js';
import { COMMISSION_LIMIT } from '../../main/ops/planning.js';

let dir: string;
let socketServer: Server;
const at = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grep-input-files-'));
  execFileSync('mkfifo', [at('fifo')]);
  mkdirSync(at('folder'));
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(at('socket'), resolve));
});

afterAll(async () => {
  await new Promise((resolve) => socketServer.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const refusal = (path: string, kind: keyof typeof INPUT_FILES) => {
  try {
    readInputFile(path, kind);
  } catch (error) {
    return error;
  }
  throw new Error(`${path} was read`);
};

describe('readInputFile', () => {
  it('reads a regular file whole, up to exactly the cap of its kind', () => {
    writeFileSync(at('key-sized'), Buffer.alloc(INPUT_FILES.key.maxBytes, 0x61));
    expect(readInputFile(at('key-sized'), 'key')).toEqual(Buffer.alloc(INPUT_FILES.key.maxBytes, 0x61));
    writeFileSync(at('empty'), '');
    expect(readInputFile(at('empty'), 'csv')).toHaveLength(0);
  });

  it('caps each kind at its domain limit: a plan, an image, any valid package', () => {
    expect(INPUT_FILES.csv.maxBytes).toBe(COMMISSION_LIMIT.csvBytes);
    expect(INPUT_FILES.firmwareImage.maxBytes).toBe(MAX_IMAGE_BYTES);
    expect(INPUT_FILES.firmwarePackage.maxBytes).toBeGreaterThanOrEqual(MAX_PACKAGE_BYTES);
    expect(INPUT_FILES.firmwarePackage.maxBytes).toBeLessThan(MAX_PACKAGE_BYTES + 2 ** 20);
  });

  it('refuses one byte over the cap, naming the file, its size and the cap', () => {
    writeFileSync(at('key-over'), Buffer.alloc(INPUT_FILES.key.maxBytes + 1));
    expect(refusal(at('key-over'), 'key')).toMatchObject({ code: 'TOO_LARGE', message: `${at('key-over')} is 4.0 KiB: a key file is at most 4.0 KiB` });
  });

  it('refuses a sparse file of 40 GiB from its size alone, at once and without reading it', () => {
    writeFileSync(at('sparse.csv'), '');
    truncateSync(at('sparse.csv'), 40 * 2 ** 30);
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    expect(refusal(at('sparse.csv'), 'csv')).toMatchObject({ code: 'TOO_LARGE', message: `${at('sparse.csv')} is 40.0 GiB: a commissioning CSV is at most 16.0 MiB` });
    expect(performance.now() - started).toBeLessThan(100);
    expect(process.memoryUsage().rss - rss).toBeLessThan(16 * 2 ** 20);
  });

  it('reads at most cap + 1 bytes of a file that holds more than fstat said', () => {
    // /proc files are regular files of size 0 whose content appears as they are read: a file that grows
    expect(refusal('/proc/self/maps', 'key')).toMatchObject({ code: 'TOO_LARGE', message: '/proc/self/maps is over 4.0 KiB (it grew while being read): a key file is at most 4.0 KiB' });
  });

  it('refuses /dev/zero, a FIFO nobody writes to, a directory and a socket at once, as what they are', () => {
    // in a child with a deadline: a read that blocks (the FIFO) or never ends (/dev/zero) would hang this very worker, where no test timeout reaches
    const cases = [
      ['/dev/zero', 'a character device'],
      [at('fifo'), 'a FIFO (named pipe)'],
      [at('folder'), 'a directory'],
      [at('socket'), 'a socket'],
    ];
    const script = `import { readInputFile } from ${JSON.stringify(join(import.meta.dirname, '../../main/files/readBounded.ts'))};
      const refusals = [];
      for (const path of ${JSON.stringify(cases.map(([path]) => path))}) {
        try { readInputFile(path, 'firmwarePackage'); refusals.push('read'); } catch (error) { refusals.push({ code: error.code, message: error.message }); }
      }
      process.stdout.write(JSON.stringify(refusals));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(child.signal, 'a read hung or never ended: killed at the deadline').toBeNull();
    expect(JSON.parse(child.stdout)).toEqual(
      cases.map(([path, type]) => ({ code: 'NOT_A_FILE', message: `${path} is ${type}, not a regular file: a firmware package must be a file` })),
    );
  });

  it('names a missing file', () => {
    expect(refusal(at('nowhere'), 'backup')).toMatchObject({ code: 'NOT_FOUND', message: `${at('nowhere')}: no such file` });
  });
});

describe('readKeyFile', () => {
  const pairing = Uint8Array.from({ length: 16 }, (_, i) => i);
  const publicKey = new Uint8Array(32).fill(9);

  it('reads a pairing key bare or typed, and a KM public key bare or typed', () => {
    writeFileSync(at('pairing.bare'), `${toHex(pairing)}\n`);
    writeFileSync(at('pairing.typed'), keyFileText('pairing', pairing));
    writeFileSync(at('km.bare'), toHex(publicKey));
    writeFileSync(at('km.typed'), keyFileText('kmPublic', publicKey).replaceAll('\n', '\r\n'));
    expect(readKeyFile(at('pairing.bare'), 'pairing')).toEqual(pairing);
    expect(readKeyFile(at('pairing.typed'), 'pairing')).toEqual(pairing);
    expect(readKeyFile(at('km.bare'), 'kmPublic')).toEqual(publicKey);
    expect(readKeyFile(at('km.typed'), 'kmPublic')).toEqual(publicKey);
  });

  it('refuses a file of another type by name, even where bare hex would do', () => {
    writeFileSync(at('vendor.key'), keyFileText('vendorSecret', publicKey));
    expect(() => readKeyFile(at('vendor.key'), 'pairing')).toThrow(
      expect.objectContaining({ code: 'WRONG_KEY_TYPE', message: `${at('vendor.key')} is a vendor secret key; this needs a DC pairing key (the DC's pairing key, 16 or 32 bytes as hex)` }),
    );
    writeFileSync(at('openssl.pem'), '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n');
    expect(() => readKeyFile(at('openssl.pem'), 'vendorSecret')).toThrow(expect.objectContaining({ code: 'WRONG_KEY_TYPE', message: expect.stringContaining('is a "PRIVATE KEY", not a GREP key') }));
  });

  it('refuses a broken armor, a wrong length and non-hex, never quoting the content', () => {
    const secretHex = toHex(publicKey);
    const cases: [string, RegExp][] = [
      [`-----END GREP VENDOR SECRET KEY-----\n${secretHex}\n`, /the key type line must come first/],
      [`-----BEGIN GREP VENDOR SECRET KEY-----\n${secretHex}\n`, /the BEGIN line, one line of hex and the END line/],
      [keyFileText('vendorSecret', pairing), /a vendor secret key is 32 bytes of hex, not 16/],
      [keyFileText('vendorSecret', publicKey).replace(secretHex, `${secretHex.slice(2)}zz`), /the vendor secret key is not hex/],
    ];
    for (const [content, message] of cases) {
      writeFileSync(at('broken.key'), content);
      let error: unknown;
      try {
        readKeyFile(at('broken.key'), 'vendorSecret');
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'BAD_KEY_FILE', message: expect.stringMatching(message) });
      expect((error as Error).message).not.toContain(secretHex.slice(2, 40));
    }
  });
});
