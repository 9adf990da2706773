import { existsSync, mkdirSync } from 'node:fs';
import { KmStore, type ScryptCost, StoreError } from '../store/index.js';
import { AppError } from './errors.js';

/**
 * The passphrase in front of the sealed store: a new store needs a passphrase of a decent length, and
 * every wrong one costs a delay that doubles up to 16×, which slows a guessing script down without
 * annoying an operator who mistyped once. Attempts run one after the other, so guesses cannot race
 * the delay.
 */

const MIN_PASSPHRASE = 8;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface StoreGateOptions {
  readonly dataDir: string;
  readonly storePath: string;
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
    const { dataDir, storePath, scrypt, failureDelayMs } = this.options;
    const creating = !this.exists;
    if (creating && passphrase.length < MIN_PASSPHRASE) throw new AppError('BAD_ARGUMENTS', `a new store needs a passphrase of at least ${MIN_PASSPHRASE} characters`);
    let store: KmStore;
    try {
      if (creating) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      store = creating ? KmStore.create(storePath, passphrase, scrypt) : KmStore.open(storePath, passphrase);
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
