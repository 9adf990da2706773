import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreGate } from '../../main/app/storeGate.js';
import { MIN_PASSPHRASE_CHARS, newPassphraseRefusal } from '../../main/store/passphrase.js';

/* The one rule for a new passphrase; grepctl init's door is tested through the CLI (cliHostileInput.test.ts). */

const dir = mkdtempSync(join(tmpdir(), 'grep-passphrase-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// seven characters that are fourteen UTF-16 units, and a decomposed é that NFC makes one character
const WEAK = ['', 'x', 'seven77', '🔑'.repeat(7), `caf${'e\u0301'}123`];
const STRONG = ['eight888', '🔑'.repeat(8), 'correct horse battery staple'];

describe('newPassphraseRefusal', () => {
  it.each(WEAK)('refuses %j', (passphrase) => {
    expect(newPassphraseRefusal(passphrase)).toBe(`must be at least ${MIN_PASSPHRASE_CHARS} characters long`);
  });

  it.each(STRONG)('takes %j', (passphrase) => {
    expect(newPassphraseRefusal(passphrase)).toBeUndefined();
  });
});

describe("the console's gate applies it to a new store", () => {
  const CHEAP = { cost: 1024, blockSize: 8, parallelism: 1 };

  it.each(WEAK.filter((passphrase) => passphrase !== ''))('refuses %j and creates no store', async (passphrase) => {
    const storePath = join(dir, 'weak', 'km.sqlite');
    const gate = new StoreGate({ dataDir: join(dir, 'weak'), storePath, program: 'passphrase test', scrypt: CHEAP });
    await expect(gate.open(passphrase)).rejects.toMatchObject({ code: 'BAD_ARGUMENTS', message: "a new store's passphrase must be at least 8 characters long" });
    expect(existsSync(storePath)).toBe(false);
  });

  it('takes eight characters, however many UTF-16 units they are', async () => {
    const storePath = join(dir, 'strong', 'km.sqlite');
    const gate = new StoreGate({ dataDir: join(dir, 'strong'), storePath, program: 'passphrase test', scrypt: CHEAP });
    const { store, created } = await gate.open('🔑'.repeat(8));
    store.close();
    expect(created).toBe(true);
  });
});
