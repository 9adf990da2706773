import type { Db } from './db.js';
import type { Sealer } from './sealing.js';

/*
 * Firmware rows of the store (GREP.md §10): the vendor/operator keys staging trusts, packages that passed
 * staging, campaigns and the highest sequence activated per model. A campaign's engine state and its
 * current round's sends are plain JSON (the operator may read them); its content key K_fw is sealed
 * with the row's identity as AAD, like every secret column.
 */

export interface TrustedKeyRecord {
  readonly label: string;
  readonly publicKey: Uint8Array;
  readonly addedAt: string;
}

export interface PackageRecord {
  readonly id: number;
  readonly vendor: string;
  readonly model: string;
  readonly version: string;
  readonly sequence: number;
  readonly size: number;
  /** SHA-256 of the image, hex */
  readonly digest: string;
  /** SHA-256 of the whole package file, hex */
  readonly packageDigest: string;
  readonly stagedAt: string;
}

export interface CampaignRecord {
  readonly id: number;
  readonly packageId: number;
  readonly blockSize: number;
  readonly status: string;
  /** the engine's CampaignState, as JSON */
  readonly state: string;
  /** the sends of the current round, as JSON: a restarted service resends them */
  readonly roundSends: string;
  readonly sentBytes: number;
  /** 'model', or the JSON list of the meters a push named (blocks.ts Audience) */
  readonly audience: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ActivatedVersion {
  readonly model: string;
  readonly sequence: number;
  readonly version: string;
  readonly campaignId: number;
  readonly activatedAt: string;
}

const bytes = (value: Buffer | Uint8Array) => new Uint8Array(value);
const PACKAGE_COLUMNS = 'id, vendor, model, version, sequence, size, digest, package_digest AS packageDigest, staged_at AS stagedAt';
const CAMPAIGN_COLUMNS = 'id, package_id AS packageId, block_size AS blockSize, status, state, round_sends AS roundSends, audience, sent_bytes AS sentBytes, created_at AS createdAt, updated_at AS updatedAt';

export class FirmwareRepo {
  constructor(private readonly db: Db, private readonly sealer: Sealer) {}

  /** Adds a key; a key already trusted keeps its first label. Returns whether it was added. */
  trustKey(label: string, publicKey: Uint8Array, at: Date): boolean {
    return this.db.prepare('INSERT INTO firmware_keys (label, public_key, added_at) VALUES (?, ?, ?) ON CONFLICT (public_key) DO NOTHING').run(label, publicKey, at.toISOString()).changes === 1;
  }

  trustedKeys(): TrustedKeyRecord[] {
    const rows = this.db.prepare('SELECT label, public_key, added_at FROM firmware_keys ORDER BY id').all() as { label: string; public_key: Buffer; added_at: string }[];
    return rows.map((row) => ({ label: row.label, publicKey: bytes(row.public_key), addedAt: row.added_at }));
  }

  savePackage(groupId: number, pkg: Omit<PackageRecord, 'id'>, packageBytes: Uint8Array): number {
    const { lastInsertRowid } = this.db.prepare(`INSERT INTO firmware_packages (group_id, vendor, model, version, sequence, size, digest, package_digest, bytes, staged_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(groupId, pkg.vendor, pkg.model, pkg.version, pkg.sequence, pkg.size, pkg.digest, pkg.packageDigest, packageBytes, pkg.stagedAt);
    return Number(lastInsertRowid);
  }

  packages(groupId: number): PackageRecord[] {
    return this.db.prepare(`SELECT ${PACKAGE_COLUMNS} FROM firmware_packages WHERE group_id = ? ORDER BY id`).all(groupId) as PackageRecord[];
  }

  package(groupId: number, id: number): PackageRecord | undefined {
    return this.db.prepare(`SELECT ${PACKAGE_COLUMNS} FROM firmware_packages WHERE group_id = ? AND id = ?`).get(groupId, id) as PackageRecord | undefined;
  }

  packageByDigest(groupId: number, packageDigest: string): PackageRecord | undefined {
    return this.db.prepare(`SELECT ${PACKAGE_COLUMNS} FROM firmware_packages WHERE group_id = ? AND package_digest = ? ORDER BY id LIMIT 1`).get(groupId, packageDigest) as PackageRecord | undefined;
  }

  packageBytes(id: number): Uint8Array {
    const row = this.db.prepare('SELECT bytes FROM firmware_packages WHERE id = ?').get(id) as { bytes: Buffer } | undefined;
    if (!row) throw new RangeError(`no firmware package ${id}`);
    return bytes(row.bytes);
  }

  /** A new campaign row; its id is the campaign id of its frames. */
  createCampaign(groupId: number, campaign: { packageId: number; blockSize: number; kfw: Uint8Array; audience: string; at: Date }, state: (id: number) => { status: string; json: string }): number {
    const at = campaign.at.toISOString();
    const id = Number(this.db.prepare(`INSERT INTO firmware_campaigns (group_id, package_id, block_size, sealed_kfw, audience, status, state, round_sends, sent_bytes, created_at, updated_at)
      VALUES (?, ?, ?, x'', ?, '', '', '[]', 0, ?, ?)`).run(groupId, campaign.packageId, campaign.blockSize, campaign.audience, at, at).lastInsertRowid);
    const initial = state(id);
    this.db.prepare('UPDATE firmware_campaigns SET sealed_kfw = ?, status = ?, state = ? WHERE id = ?').run(this.sealer.seal(campaign.kfw, `firmware_campaigns:${id}:kfw`), initial.status, initial.json, id);
    return id;
  }

  campaigns(groupId: number): CampaignRecord[] {
    return this.db.prepare(`SELECT ${CAMPAIGN_COLUMNS} FROM firmware_campaigns WHERE group_id = ? ORDER BY id`).all(groupId) as CampaignRecord[];
  }

  campaign(groupId: number, id: number): CampaignRecord | undefined {
    return this.db.prepare(`SELECT ${CAMPAIGN_COLUMNS} FROM firmware_campaigns WHERE group_id = ? AND id = ?`).get(groupId, id) as CampaignRecord | undefined;
  }

  campaignKey(id: number): Uint8Array {
    const row = this.db.prepare('SELECT sealed_kfw FROM firmware_campaigns WHERE id = ?').get(id) as { sealed_kfw: Buffer } | undefined;
    if (!row) throw new RangeError(`no campaign ${id}`);
    return this.sealer.open(bytes(row.sealed_kfw), `firmware_campaigns:${id}:kfw`);
  }

  /** The engine state; with `roundSends`, a new round that goes out after this commit. */
  saveCampaign(id: number, update: { status: string; state: string; roundSends?: string; addBytes?: number; at: Date }): void {
    this.db.prepare(`UPDATE firmware_campaigns SET status = ?, state = ?, round_sends = coalesce(?, round_sends), sent_bytes = sent_bytes + ?, updated_at = ? WHERE id = ?`)
      .run(update.status, update.state, update.roundSends ?? null, update.addBytes ?? 0, update.at.toISOString(), id);
  }

  /** Records an activation; the highest sequence per model stays, so a late report of an older campaign never lowers it. */
  recordActivated(groupId: number, activated: Omit<ActivatedVersion, 'activatedAt'>, at: Date): void {
    this.db.prepare(`INSERT INTO firmware_versions (group_id, model, sequence, version, campaign_id, activated_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (group_id, model) DO UPDATE SET sequence = excluded.sequence, version = excluded.version, campaign_id = excluded.campaign_id,
      activated_at = excluded.activated_at WHERE excluded.sequence > firmware_versions.sequence`)
      .run(groupId, activated.model, activated.sequence, activated.version, activated.campaignId, at.toISOString());
  }

  activatedVersion(groupId: number, model: string): ActivatedVersion | undefined {
    return this.db.prepare('SELECT model, sequence, version, campaign_id AS campaignId, activated_at AS activatedAt FROM firmware_versions WHERE group_id = ? AND model = ?').get(groupId, model) as ActivatedVersion | undefined;
  }
}
