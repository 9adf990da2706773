import { existsSync, mkdirSync } from 'node:fs';
import { KmStore, type ScryptCost, StoreError } from '../store/index.js';
import { newPassphraseRefusal } from '../store/passphrase.js';
import { AppError } from './errors.js';

/**
 * The passphrase in front of the sealed store: a new store needs a passphrase of a decent length (the
 * one rule of store/passphrase.ts, which grepctl init applies too), and every wrong one costs a delay
 * that doubles up to 16×, which slows a guessing script down without annoying an operator who
 * mistyped once. Attempts run one after the other, so guesses cannot race the delay.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface StoreGateOptions {
  readonly dataDir: string;
  readonly storePath: string;
  /** how the store's writer lock names this process to another one that finds the store busy */
  readonly program: string;
  readonly scrypt?: ScryptCost | undefined;
  /** delay after the first wrong passphrase */
  readonly failureDelayMs?: number | undefined;
}

export class StoreGate {
  private failures = 0;
  private attempts: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: StoreGateOptions) {}

  get exists(): boolean {
    return existsSync(this.options.storePath);
  }

  /** Runs `attempt` once every earlier one has finished, whatever its outcome. */
  inTurn<T>(attempt: () => Promise<T>): Promise<T> {
    const run = this.attempts.then(attempt);
    this.attempts = run.catch(() => undefined);
    return run;
  }

  /** Resolves once no attempt is running. */
  idle(): Promise<unknown> {
    return this.attempts;
  }

  /** Opens the store, or creates it (its folder 0700) when there is none yet. */
  async open(passphrase: string): Promise<{ store: KmStore; created: boolean }> {
    const { dataDir, storePath, scrypt, failureDelayMs, program } = this.options;
    const creating = !this.exists;
    const refusal = creating ? newPassphraseRefusal(passphrase) : undefined;
    if (refusal) throw new AppError('BAD_ARGUMENTS', `a new store's passphrase ${refusal}`);
    let store: KmStore;
    try {
      if (creating) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      store = creating ? KmStore.create(storePath, passphrase, scrypt, { writer: program }) : KmStore.open(storePath, passphrase, { writer: program });
    } catch (error) {
      if (error instanceof StoreError && error.code === 'WRONG_PASSPHRASE') {
        this.failures++;
        await sleep((failureDelayMs ?? 500) * 2 ** Math.min(this.failures - 1, 4));
      }
      throw error;
    }
    this.failures = 0;
    return { store, created: creating };
  }
}
