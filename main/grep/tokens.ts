import { ByteWriter, concatBytes } from './bytes.js';
import type { GrepCrypto } from './crypto.js';

export type TokenLabel = 'grep node' | 'grep subgroup';
const LABEL_BYTES: Record<TokenLabel, Uint8Array> = {
  'grep node': new TextEncoder().encode('grep node'),
  'grep subgroup': new TextEncoder().encode('grep subgroup'),
};

/** §5 token refresh: t <- KDF(K*, label, owner id, epoch, t). Members and the KM share this one function. */
export function refreshToken(
  crypto: GrepCrypto,
  key: Uint8Array,
  label: TokenLabel,
  owner: number,
  epoch: number,
  token: Uint8Array,
): Uint8Array {
  const labelBytes = LABEL_BYTES[label];
  const info = new ByteWriter(labelBytes.length + 8).raw(labelBytes).u32(owner).u32(epoch).done();
  return crypto.kdf(concatBytes(key, token), info);
}

/** A token as the KM keeps it: its value as of refresh step `at` of its family. */
export interface LazyToken {
  value: Uint8Array;
  at: number;
}

interface RefreshStep {
  readonly epoch: number;
  readonly key: Uint8Array;
}

/**
 * The refresh steps of one token family: all subgroup tokens of the group (refreshed under KG*), or the
 * node tokens of one subgroup (refreshed under its KS*). Every member applies each step at once to the
 * few tokens it holds; the KM holds ~4·sqrt(n) tokens per family at n = 10^6, so it records the step
 * and brings a token up to date only when it reads it. The values are exactly those of the eager rule.
 * `settle` catches up idle tokens between operations so a read never replays a long chain.
 */
export class RefreshFamily {
  private steps: RefreshStep[] = [];
  /** absolute index of steps[0]; steps before it have been applied to every token of the family */
  private first = 0;

  constructor(readonly label: TokenLabel) {}

  get head(): number {
    return this.first + this.steps.length;
  }

  get pending(): number {
    return this.steps.length;
  }

  fresh(value: Uint8Array): LazyToken {
    return { value, at: this.head };
  }

  record(epoch: number, key: Uint8Array): void {
    this.steps.push({ epoch, key });
  }

  read(crypto: GrepCrypto, token: LazyToken, owner: number): Uint8Array {
    if (token.at < this.first) throw new Error('token fell behind a compacted refresh log');
    for (let index = token.at; index < this.head; index++) {
      const step = this.steps[index - this.first]!;
      token.value = refreshToken(crypto, step.key, this.label, owner, step.epoch, token.value);
    }
    token.at = this.head;
    return token.value;
  }

  /** Brings every token up to date and forgets the steps; returns the refreshes it computed. */
  settle(crypto: GrepCrypto, tokens: Iterable<readonly [LazyToken, number]>): number {
    let refreshes = 0;
    for (const [token, owner] of tokens) {
      refreshes += this.head - token.at;
      this.read(crypto, token, owner);
    }
    this.first = this.head;
    this.steps = [];
    return refreshes;
  }

  /** For persistence: the unsettled steps and the index of the first. */
  snapshot(): { first: number; steps: readonly RefreshStep[] } {
    return { first: this.first, steps: [...this.steps] };
  }

  static restore(label: TokenLabel, first: number, steps: readonly RefreshStep[]): RefreshFamily {
    const family = new RefreshFamily(label);
    family.first = first;
    family.steps = [...steps];
    return family;
  }
}
