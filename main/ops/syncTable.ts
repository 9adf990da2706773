import { type GrepCrypto, type KeyManager, kgFingerprint, toHex } from '../grep/index.js';
import type { MeterReport } from '../link/messages.js';
import type { KmStore } from '../store/index.js';

/**
 * The per-meter sync table (§7 acks): what each member last acknowledged, with which KG fingerprint,
 * and whether that is the group's current state. It outlives the process, so after a restart the
 * convergence driver starts from what the meters last said rather than assuming they are current.
 */
export class SyncTable {
  constructor(private readonly store: KmStore, private readonly groupId: number, private readonly crypto: GrepCrypto) {}

  /** Acks and gap reports of current members; a member is in sync when it holds this epoch's KG. */
  record(reports: readonly MeterReport[], km: KeyManager): void {
    const fingerprint = toHex(kgFingerprint(this.crypto, km.groupKey()));
    const lastSeen = new Date().toISOString();
    this.store.transaction(() => {
      for (const report of reports) {
        if (report.event === 'command' || !km.has(report.member)) continue;
        const reported = toHex(report.fingerprint);
        const inSync = report.epoch === km.epoch && reported === fingerprint;
        this.store.saveSync(this.groupId, { meterId: report.member, ackedEpoch: report.epoch, fingerprint: reported, lastSeen, status: inSync ? 'in sync' : 'lagging' });
      }
    });
  }

  /** After the DC link came back: what the meters said before is no longer known to hold. */
  markUnknown(): void {
    this.store.transaction(() => this.store.markSyncUnknown(this.groupId));
  }

  markUnreachable(meters: readonly number[]): void {
    const sync = new Map(this.store.syncStates(this.groupId).map((row) => [row.meterId, row]));
    this.store.transaction(() => {
      for (const meter of meters) {
        const row = sync.get(meter);
        this.store.saveSync(this.groupId, { meterId: meter, ackedEpoch: row?.ackedEpoch ?? null, fingerprint: row?.fingerprint ?? null, lastSeen: row?.lastSeen ?? null, status: 'unreachable' });
      }
    });
  }

  /**
   * The table as reports, for a convergence driver that has just started: a member that never acked
   * is taken to hold the epoch before it joined, i.e. nothing.
   */
  lastReports(km: KeyManager): MeterReport[] {
    const joined = new Map(this.store.members(this.groupId).map((member) => [member.meterId, member.joinedEpoch]));
    return this.store.syncStates(this.groupId)
      .filter((sync) => km.has(sync.meterId))
      .map((sync) => ({
        member: sync.meterId,
        epoch: sync.ackedEpoch ?? (joined.get(sync.meterId) ?? km.epoch) - 1,
        fingerprint: sync.fingerprint ? Uint8Array.from(Buffer.from(sync.fingerprint, 'hex')) : new Uint8Array(4),
        event: 'ack',
        detail: 0,
      }));
  }
}
