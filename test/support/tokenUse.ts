import { decodeMessage, type GrepCrypto, openItem, toHex } from '../../main/grep/index.js';
import type { PublicEpoch } from './adversary.js';

const TOKEN_KEYED = new Set(['M1', 'M2', 'A', 'C']);

/**
 * Invariant 5 (§2 freshness): every token value encrypts at most one payload, then is refreshed or
 * deleted. Finds, by trial decryption, which token value (held by any member at e-1) opened each item
 * of epoch e, and reports values used twice or still held by anyone after their use.
 */
export function tokenReuse(crypto: GrepCrypto, history: readonly PublicEpoch[]): string[] {
  const problems: string[] = [];
  const usedAt = new Map<string, number>();
  for (let index = 1; index < history.length; index++) {
    const previous = history[index - 1]!;
    const step = history[index]!;
    const tokens = new Map<string, Uint8Array>();
    for (const keys of previous.snapshots.values()) {
      for (const list of [keys.nodeBackward, keys.nodeForward, keys.subgroupBackward, keys.subgroupForward]) {
        for (const value of list.values()) tokens.set(toHex(value), value);
      }
    }
    for (const outgoing of step.messages) {
      const message = decodeMessage(outgoing.bytes);
      if (!TOKEN_KEYED.has(message.header.type)) continue;
      for (const item of message.items) {
        const opener = [...tokens].find(([, value]) => openItem(crypto, message, item, value));
        if (!opener) {
          problems.push(`epoch ${step.epoch}: ${message.header.type} item ${item.slot} opens with no token anyone held`);
          continue;
        }
        if (usedAt.has(opener[0])) problems.push(`epoch ${step.epoch}: token reused (first used at ${usedAt.get(opener[0])})`);
        usedAt.set(opener[0], step.epoch);
      }
    }
    for (const [member, keys] of step.snapshots) {
      if (keys.epoch !== step.epoch) continue;
      for (const list of [keys.nodeBackward, keys.nodeForward, keys.subgroupBackward, keys.subgroupForward]) {
        for (const value of list.values()) {
          const used = usedAt.get(toHex(value));
          if (used !== undefined) problems.push(`epoch ${step.epoch}: member ${member} still holds a token used at ${used}`);
        }
      }
    }
  }
  return problems;
}
