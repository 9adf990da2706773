import { existsSync, statSync } from 'node:fs';
import { z } from 'zod';
import { KmStore, restoreBackup, StoreError, WriterLock, writeBackup } from '../store/index.js';
import { text } from './args.js';
import { actor, program, storePath, withStore } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { type Subcommand, subcommand } from './spec.js';
import { confirm, passphrase } from './terminal.js';

/*
 * The whole KM state to and from an encrypted file. The backup passphrase is separate from the store's
 * (GREP_BACKUP_PASSPHRASE), so whoever keeps the backups offline never learns the one that opens the
 * live store; a restored store keeps the store passphrase it had when it was backed up.
 */

const file = { name: 'file', many: false } as const;

const backup = subcommand({
  words: ['backup'],
  usage: '<file>',
  summary: 'write an encrypted copy of the whole store (backup passphrase from GREP_BACKUP_PASSPHRASE, or asked twice)',
  positional: file,
  schema: z.object({ file: text.refine((path) => !existsSync(path), 'exists already: a backup is never overwritten') }),
  run: (args, global) =>
    withStore(global, async (store) => {
      const secret = await passphrase('GREP_BACKUP_PASSPHRASE', 'backup passphrase', true);
      // recorded first, so that the backup carries the row of its own making
      store.transaction(() => store.audit(actor, 'backup', { file: args.file }));
      await writeBackup(store.db, args.file, secret);
      const bytes = statSync(args.file).size;
      return { json: { store: store.path, backup: args.file, bytes }, text: `backed up ${store.path} to ${args.file} (${bytes} B, encrypted)` };
    }),
});

const restore = subcommand({
  words: ['restore'],
  usage: '<file>',
  summary: 'replace the store with a backup (checked whole before anything is replaced); asks to confirm',
  positional: file,
  schema: z.object({ file: text.refine((path) => existsSync(path), 'no such backup file') }),
  async run(args, global) {
    const path = storePath(global);
    const secret = await passphrase('GREP_BACKUP_PASSPHRASE', 'backup passphrase');
    const storeSecret = await passphrase('GREP_PASSPHRASE', 'store passphrase');
    const refusal = await confirm(`restore replaces ${path}${existsSync(path) ? ' and everything done since the backup' : ''} with ${args.file}.`, global.yes);
    if (refusal) return { exitCode: ExitCode.notConfirmed, json: { store: path, restored: false, error: { code: 'NOT_CONFIRMED', message: refusal } }, text: refusal };
    // never under a running Key Manager: it would go on writing its own state over the restored one
    const lock = WriterLock.acquire(path, program);
    try {
      restoreBackup(args.file, secret, path);
    } finally {
      lock.release();
    }
    let store: KmStore;
    try {
      store = KmStore.open(path, storeSecret, { writer: program });
    } catch (error) {
      if (!(error instanceof StoreError) || error.code !== 'WRONG_PASSPHRASE') throw error;
      throw new CliError(ExitCode.store, error.code, `restored ${path} from ${args.file}, but it does not open with this store passphrase: it keeps the one it had at backup time`);
    }
    try {
      store.transaction(() => store.audit(actor, 'restore', { file: args.file }));
    } finally {
      store.close();
    }
    return { json: { store: path, restored: true, backup: args.file }, text: `restored ${path} from ${args.file}` };
  },
});

export const backupCommands: readonly Subcommand[] = [backup, restore];
