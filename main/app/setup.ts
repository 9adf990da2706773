import { toHex } from '../grep/index.js';
import { dcAddress } from '../ops/dcLink.js';
import { KeyManagerService } from '../ops/service.js';
import { type DcProfile, type GroupRecord, type KmStore, StoreError } from '../store/index.js';
import { SIMULATED_PROFILE } from './simulated.js';

/** What the first unlock of a store sets up, and what a later one finds in place. */

/** The session's group, created with a fresh KM key pair the first time. */
export function ensureGroup(store: KmStore, name: string, plannedSize: number, actor: string): GroupRecord {
  try {
    return store.group(name);
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'UNKNOWN_GROUP')) throw error;
  }
  const { next } = store.db.prepare('SELECT coalesce(max(id), 0) + 1 AS next FROM groups').get() as { next: number };
  return KeyManagerService.createGroup(store, { id: next, name, plannedSize }, actor);
}

/**
 * Saves a DC profile, audited when it is new or its pairing key changed; a move to another address
 * with the same key (the embedded simulator gets a new port on every start) is not worth a row.
 */
export function saveProfile(store: KmStore, profile: DcProfile, actor: string): void {
  const previous = store.dcProfile(profile.name);
  store.transaction(() => {
    store.saveDcProfile(profile);
    const sameKey = previous !== undefined && toHex(previous.pairingKey) === toHex(profile.pairingKey);
    const sameAddress = previous !== undefined && dcAddress(previous) === dcAddress(profile);
    if (!sameKey || (!sameAddress && profile.name !== SIMULATED_PROFILE)) store.audit(actor, previous ? 'replace dc' : 'add dc', { dc: profile.name, address: dcAddress(profile) });
  });
}
