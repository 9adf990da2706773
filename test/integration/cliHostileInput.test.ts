import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSigningKey } from '../../main/firmware/keys.js';
import { toHex } from '../../main/grep/index.js';
import { grepctlIn, PAIRING_KEY, type Run } from '../support/grepctl.js';

/*
 * grepctl handed hostile input through its real command line: files that are not files (they used to
 * hang on a FIFO or read /dev/zero to 3 GB), key files of the wrong type, weak passphrases, a backup
 * whose header asks scrypt for gigabytes, and stored strings that carry terminal control sequences.
 */

let dir: string;
const path = (name: string) => join(dir, name);
const { start, grepctl } = grepctlIn(() => dir);
const BACKUP_PASSPHRASE = { GREP_BACKUP_PASSPHRASE: 'offsite passphrase' };

/** past this the child is killed and the test fails: a FIFO that blocks the read must not hang the suite */
const DEADLINE_MS = 30_000;
/** a grepctl that refuses at once peaks near 110 MiB; the old reads peaked at 1.3 GB (/dev/zero) and 2.1 GB (1 GiB file) */
const MEMORY_CAP_KIB = 256 * 1024;

interface Measured extends Run {
  readonly ms: number;
  /** the child's peak resident memory (VmHWM), sampled until it exits */
  readonly peakKiB: number;
}

async function measured(args: readonly string[], env: Record<string, string> = {}): Promise<Measured> {
  const started = performance.now();
  const { child, done } = start(args, env);
  let peakKiB = 0;
  const sample = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
    } catch {
      // the child has just exited
    }
  }, 20);
  const deadline = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
  try {
    const run = await done;
    return { ...run, ms: performance.now() - started, peakKiB };
  } finally {
    clearInterval(sample);
    clearTimeout(deadline);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grepctl-hostile-'));
  expect((await grepctl(['init'])).code).toBe(0);
  expect((await grepctl(['group', 'create', '--name', 'feeder-3', '--planned-size', '10', '--id', '3'])).code).toBe(0);
  expect((await grepctl(['fw', 'keygen', '-o', path('vendor')])).code).toBe(0);
  writeFileSync(path('pairing.key'), PAIRING_KEY);
  expect((await grepctl(['dc', 'add', '--name', 'dc-3', '--tcp', '127.0.0.1:1', '--pairing-key', path('pairing.key')])).code).toBe(0);
  execFileSync('mkfifo', [path('fifo')]);
  mkdirSync(path('folder'));
  // sparse: no disk used, but the old readFileSync read every byte of it
  writeFileSync(path('sparse'), '');
  truncateSync(path('sparse'), 2 ** 30);
  // over readFileSync's own 2 GiB limit, and over the backup cap of 2 GiB - 1
  writeFileSync(path('sparse-3g'), '');
  truncateSync(path('sparse-3g'), 3 * 2 ** 30);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a file argument that is no regular file, or is too large', () => {
  const hostile = [
    ['/dev/zero', () => '/dev/zero', 'is a character device, not a regular file'],
    ['a FIFO nobody writes to', () => path('fifo'), 'is a FIFO (named pipe), not a regular file'],
    ['a directory', () => path('folder'), 'is a directory, not a regular file'],
    ['a sparse file of 1 GiB', () => path('sparse'), 'is 1.0 GiB: a '],
  ] as const;
  /**
   * The refusals come while the arguments are checked, so the runs of one command go side by side;
   * restore's one after the other, as it takes the store's writer lock first. A 1 GiB file is within
   * the backup cap (2 GiB - 1): restore's size refusal is the 3 GiB file below.
   */
  const commands: readonly [string, (file: string) => string[], boolean, Record<string, string>?][] = [
    ['fw inspect', (file) => ['fw', 'inspect', file], true],
    ['fw stage', (file) => ['fw', 'stage', file], true],
    ['commission --csv', (file) => ['commission', '--csv', file], true],
    ['dc add --pairing-key', (file) => ['dc', 'add', '--name', 'dc-x', '--tcp', '127.0.0.1:1', '--pairing-key', file], true],
    ['fw trust --key', (file) => ['fw', 'trust', '--key', file, '--label', 'x'], true],
    ['restore', (file) => ['restore', file, '--yes'], false, BACKUP_PASSPHRASE],
  ];

  it.each(commands)('grepctl %s refuses each at once with exit 2, naming the file and what it is', async (_, args, sideBySide, env) => {
    const files = sideBySide ? hostile : hostile.slice(0, 3);
    const runs: Measured[] = [];
    if (sideBySide) runs.push(...(await Promise.all(files.map(([, file]) => measured(args(file()), env)))));
    else for (const [, file] of files) runs.push(await measured(args(file()), env));
    for (const [index, run] of runs.entries()) {
      const [what, file, said] = files[index]!;
      expect(run.code, `${what}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(`${file()} ${said}`);
      expect(run.peakKiB, `${what}: peak memory`).toBeGreaterThan(0);
      expect(run.peakKiB, `${what}: peak memory`).toBeLessThan(MEMORY_CAP_KIB);
      expect(run.ms, what).toBeLessThan(DEADLINE_MS);
    }
  }, 4 * DEADLINE_MS);

  it('refuses a backup over its cap from its size', async () => {
    const run = await measured(['restore', path('sparse-3g'), '--yes'], BACKUP_PASSPHRASE);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`${path('sparse-3g')} is 3.0 GiB: a backup is at most 2.0 GiB`);
    expect(run.peakKiB).toBeLessThan(MEMORY_CAP_KIB);
  });

  it('changed nothing: no DC profile, no trusted key, no staged package, no plan', () => {
    const db = new Database(path('km.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT name FROM dc_profiles').all()).toEqual([{ name: 'dc-3' }]);
      expect(db.prepare('SELECT count(*) AS n FROM firmware_keys').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT count(*) AS n FROM firmware_packages').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT count(*) AS n FROM plans').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});

describe('key files say what they hold', () => {
  const pack = (key: string, out: string) => {
    writeFileSync(path('image.bin'), Buffer.alloc(500, 7));
    return grepctl(['fw', 'pack', '--image', path('image.bin'), '--model', 'GX-1', '--version', '1.0', '--seq', '2', '--key', key, '-o', path(out)]);
  };

  it('fw pack refuses the public key where it needs the secret one, and writes nothing', async () => {
    const run = await pack(path('vendor.pub'), 'never.grpf');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--key: ${path('vendor.pub')} is a vendor public key; this needs a vendor secret key (the <base>.key that grepctl fw keygen wrote)`);
    expect(existsSync(path('never.grpf'))).toBe(false);
  });

  it('fw trust refuses the secret key where it needs the public one, and never prints it', async () => {
    const run = await grepctl(['fw', 'trust', '--key', path('vendor.key'), '--label', 'oops']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--key: ${path('vendor.key')} is a vendor secret key; this needs a vendor public key`);
    expect(run.stdout + run.stderr).not.toContain(toHex(readSigningKey(path('vendor.key'))));
  });

  it('signs with the key fw keygen made and with the committed demo key', async () => {
    expect((await pack(path('vendor.key'), 'own.grpf')).code).toBe(0);
    const demo = await pack(join(import.meta.dirname, '../../resources/firmware/demo-vendor.key'), 'demo.grpf');
    expect(demo.code, demo.stderr).toBe(0);
  });
});

describe('one passphrase rule for every new passphrase', () => {
  it('grepctl init refuses a passphrase under 8 characters and creates no store', async () => {
    for (const weak of ['x', 'seven77', '🔑🔑🔑🔑🔑🔑🔑']) {
      const run = await grepctl(['init', '--db', path('weak.db')], { GREP_PASSPHRASE: weak });
      expect(run.code, weak).toBe(2);
      expect(run.stderr).toContain('the new store passphrase (GREP_PASSPHRASE) must be at least 8 characters long');
      expect(existsSync(path('weak.db'))).toBe(false);
    }
    expect((await grepctl(['init', '--db', path('eight.db')], { GREP_PASSPHRASE: 'eight888' })).code).toBe(0);
  });

  it('grepctl backup refuses a weak backup passphrase and writes no backup', async () => {
    const run = await grepctl(['backup', path('weak.backup')], { GREP_BACKUP_PASSPHRASE: 'short' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the backup passphrase (GREP_BACKUP_PASSPHRASE) must be at least 8 characters long');
    expect(existsSync(path('weak.backup'))).toBe(false);
  });
});

describe('a backup whose header asks for more scrypt than backup writes', () => {
  it.each([
    ['N', 0, 2 ** 22, 'scrypt N = 4194304; restore accepts only N = 2^15..2^17'],
    ['r', 4, 32, 'scrypt r = 32; restore accepts only r = 8'],
    ['p', 8, 16, 'scrypt p = 16; restore accepts only p = 1'],
  ])('is refused as BAD_BACKUP naming %s, at once, before any scrypt runs', async (_, offset, value, said) => {
    const backup = path(`cost-${offset}.backup`);
    expect((await grepctl(['backup', backup], BACKUP_PASSPHRASE)).code).toBe(0);
    const bytes = readFileSync(backup);
    // MAGIC (8) ‖ salt (16) ‖ N ‖ r ‖ p
    bytes.writeUInt32BE(value, 8 + 16 + offset);
    writeFileSync(backup, bytes);
    const store = readFileSync(path('km.db'));
    const run = await measured(['restore', backup, '--yes', '--json'], BACKUP_PASSPHRASE);
    expect(run.code).toBe(4);
    expect(JSON.parse(run.stdout).error).toEqual({ code: 'BAD_BACKUP', message: `the backup header asks for ${said}` });
    expect(run.peakKiB).toBeLessThan(MEMORY_CAP_KIB);
    expect(readFileSync(path('km.db')).equals(store)).toBe(true);
  });
});

describe('control characters in stored and foreign strings', () => {
  const SERIAL = '\u001b[2JSN-1';
  const MODEL = 'GX\u009b2J\u202etxt.exe';

  beforeAll(() => {
    // a meter stored before the CSV refused control characters (or by a future door that forgets)
    const db = new Database(path('km.db'));
    db.prepare("INSERT INTO members (group_id, meter_id, serial, model, subgroup, position, joined_epoch, removed_epoch, status) VALUES (3, 42, ?, ?, 0, 0, 0, NULL, 'member')").run(SERIAL, MODEL);
    db.close();
  });

  it('grepctl status shows them escaped, never raw', async () => {
    const run = await grepctl(['status']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('\\x1b[2JSN-1 (GX\\x9b2J\\u202etxt.exe)');
    expect(run.stdout).not.toMatch(/[\u001b\u009b\u202e]/);
  });

  it('grepctl status --json keeps the very strings, with C1 and bidi controls as \\u escapes', async () => {
    const run = await grepctl(['status', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toMatch(/[\u001b\u009b\u202e]/);
    expect(run.stdout).toContain('"model": "GX\\u009b2J\\u202etxt.exe"');
    expect(JSON.parse(run.stdout).meters).toEqual([expect.objectContaining({ meterId: 42, serial: SERIAL, model: MODEL })]);
  });

  it('an error message that quotes a foreign string reaches stderr escaped too', async () => {
    const run = await grepctl(['fw', 'inspect', path('\u001b[2Jlink up\nforged.grpf')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('\\x1b[2Jlink up\\x0aforged.grpf: no such file');
    expect(run.stderr).not.toMatch(/\u001b/);
  });

  it('commission --csv leaves out a line whose serial or model carries a control character, naming line and field', async () => {
    const nodeKey = '00'.repeat(16);
    writeFileSync(path('controls.csv'), `id,serial,model,nodeKey\n1,SN-1,GX-1,${nodeKey}\n2,\u001b[2JSN-2,GX-1,${nodeKey}\n3,SN-3,GX\u202e1,${nodeKey}\n`);
    const run = await grepctl(['commission', '--csv', path('controls.csv')]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toContain('CSV line 3 left out: serial: must not contain control characters');
    expect(run.stdout).toContain('CSV line 4 left out: model: must not contain control characters');
    expect(run.stdout).not.toMatch(/[\u001b\u202e]/);
  });
});
