import { type Commissioning, equalBytes, type GrepCrypto, type Outgoing, seededRandom, toHex } from '../main/grep/index.js';
import { uniformStream } from './channel.js';
import { type FactoryFirmware, type MeterProfile, type Scheme, SimMeter } from './meter.js';

/**
 * A fleet of simulated meters from a seed: the same seed gives the same serials, models and node keys,
 * and a meter's identity depends on its id only, not on how many meters are built with it.
 */

export interface FleetOptions {
  readonly seed: number;
  /** N meters with ids 1..N, or these ids */
  readonly meters: number | readonly number[];
  readonly scheme?: Scheme;
  readonly groupId: number;
  /** from commissioning: every meter verifies the KM's broadcasts with it (§8) */
  readonly kmPublicKey: Uint8Array;
  readonly crypto: GrepCrypto;
  /** every meter this model instead of a drawn one: a firmware campaign targets one model */
  readonly model?: string;
  readonly firmware?: FactoryFirmware;
}

export const METER_MODELS = ['GX-110 single-phase', 'GX-310 three-phase', 'GX-320 three-phase CT', 'GX-90 prepayment'] as const;

/**
 * The largest erasure-code generation (main/firmware/erasure.ts) each model's firmware decodes; a model
 * not listed has no erasure support and its campaigns repair by block, as before issue 13.
 */
export const MODEL_GENERATION_SIZE: Readonly<Partial<Record<string, number>>> = {
  'GX-110 single-phase': 64,
  'GX-310 three-phase': 64,
  'GX-320 three-phase CT': 64,
  'GX-90 prepayment': 64,
};

const NODE_KEY_LABEL = new TextEncoder().encode('sim node key');

/** Deterministic commissioning data; `crypto` derives each node key as HKDF(seed secret, label ‖ id). */
export function meterProfiles(seed: number, ids: readonly number[], crypto: GrepCrypto): MeterProfile[] {
  const secret = seededRandom(seed)(32);
  const info = new Uint8Array(NODE_KEY_LABEL.length + 4);
  info.set(NODE_KEY_LABEL);
  const view = new DataView(info.buffer);
  return ids.map((id) => {
    if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) throw new RangeError(`meter id ${id} is not in 1..2^32-1`);
    view.setUint32(NODE_KEY_LABEL.length, id);
    const model = METER_MODELS[Math.floor(uniformStream(seed ^ Math.imul(id, 0x9e3779b1))() * METER_MODELS.length)]!;
    const serial = `SIM${(seed >>> 0).toString(16).padStart(8, '0')}${String(id).padStart(10, '0')}`;
    return { id, serial, model, nodeKey: crypto.kdf(secret, info) };
  });
}

/** The CSV the KM imports: `id,serial,model,nodeKey`, node key as 32 hex digits. */
export function commissioningCsv(profiles: readonly MeterProfile[]): string {
  const lines = profiles.map((p) => `${p.id},${p.serial},${p.model},${toHex(p.nodeKey)}`);
  return `id,serial,model,nodeKey\n${lines.join('\n')}\n`;
}

/**
 * Every meter verifies the same broadcast under the same KM key, one after the other. The simulator
 * verifies it once and reuses the verdict for identical input only (key, message and signature are
 * compared whole), so a forgery never borrows a genuine verdict. At 10,000 meters this is the
 * difference between seconds and minutes of CPU per rekey.
 */
export function sharedVerdicts(crypto: GrepCrypto): GrepCrypto {
  let last: { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array; verdict: boolean } | undefined;
  return {
    ...crypto,
    verify(publicKey, message, signature) {
      if (last && equalBytes(last.signature, signature) && equalBytes(last.message, message) && equalBytes(last.publicKey, publicKey)) {
        return last.verdict;
      }
      const verdict = crypto.verify(publicKey, message, signature);
      last = { publicKey: publicKey.slice(), message: message.slice(), signature: signature.slice(), verdict };
      return verdict;
    },
  };
}

export class Fleet {
  readonly profiles: readonly MeterProfile[];
  readonly meters: ReadonlyMap<number, SimMeter>;
  private readonly byId: ReadonlyMap<number, MeterProfile>;

  constructor(options: FleetOptions) {
    const ids = typeof options.meters === 'number' ? Array.from({ length: options.meters }, (_, index) => index + 1) : options.meters;
    if (new Set(ids).size !== ids.length) throw new RangeError('meter ids must be distinct');
    const drawn = meterProfiles(options.seed, ids, options.crypto);
    const { model } = options;
    this.profiles = model === undefined ? drawn : drawn.map((profile) => ({ ...profile, model }));
    this.byId = new Map(this.profiles.map((profile) => [profile.id, profile]));
    const crypto = sharedVerdicts(options.crypto);
    const group = { scheme: options.scheme ?? 'grep', groupId: options.groupId, kmPublicKey: options.kmPublicKey };
    this.meters = new Map(this.profiles.map((profile) => [profile.id, new SimMeter(profile, group, crypto, options.firmware)]));
  }

  get size(): number {
    return this.meters.size;
  }

  get(id: number): SimMeter {
    const meter = this.meters.get(id);
    if (!meter) throw new RangeError(`no meter ${id} in this fleet`);
    return meter;
  }

  profile(id: number): MeterProfile {
    const profile = this.byId.get(id);
    if (!profile) throw new RangeError(`no meter ${id} in this fleet`);
    return profile;
  }

  /**
   * Hands messages straight to the meters, with no medium: a broadcast to every meter, a unicast to
   * its addressee. For setting a group up before what is measured or tested (a re-seed's roster and
   * SEEDs, say).
   */
  hand(messages: Iterable<Outgoing>): void {
    for (const message of messages) {
      if (message.to === 'all') for (const meter of this.meters.values()) meter.receive(message.bytes);
      else this.get(message.to).receive(message.bytes);
    }
  }

  /** What the KM imports for these meters (all by default). */
  commissioning(ids?: readonly number[]): Commissioning[] {
    return (ids ? ids.map((id) => this.profile(id)) : this.profiles).map(({ id, nodeKey }) => ({ id, nodeKey }));
  }

  toCsv(): string {
    return commissioningCsv(this.profiles);
  }
}
