import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ByteWriter,
  chainStep,
  type ChainKind,
  type Commissioning,
  concatBytes,
  drawChains,
  type Executed,
  type GrepCrypto,
  KeyManager,
  kgFingerprint,
  type MessageType,
  nobleCrypto,
  type Random,
  type Recipient,
  refreshToken,
  seededRandom,
  type TokenLabel,
  toHex,
  unrollChain,
} from '../../main/grep/index.js';

/*
 * Test vectors for another implementation of GREP (a meter's firmware, a second KM): every message type
 * of GREP.md §4–§7 as bytes on the wire, from fixed inputs, and the derivations they rest on. Run with
 * `npx tsx test/vectors/generate.ts`; test/unit/vectors.test.ts regenerates both files with both crypto
 * providers and replays the committed messages into real members.
 */

const MESSAGES_FILE = new URL('./grep-messages.json', import.meta.url);
const DERIVATIONS_FILE = new URL('./grep-derivations.json', import.meta.url);

const GROUP_ID = 0x47524550; // "GREP": a group id with every header byte non-zero, so a byte-order slip shows
const SUBGROUP_CAP = 3;
/** draws the fixed inputs (KM signing seed, node keys): separate from the KM's randomness so either can change alone */
const INPUT_SEED = 0x11;
/** the KM's randomness, replayed draw by draw */
const KM_SEED = 0x22;
const DERIVATION_SEED = 0x33;
const METERS = Array.from({ length: 14 }, (_, index) => index + 1);

type Operation = 'reseed' | 'join' | 'leave' | 'recover' | 'periodic' | 'resync' | 'batch join';

interface Step {
  readonly operation: Operation;
  /** the meters the operation names */
  readonly members: readonly number[];
  readonly note: string;
}

/**
 * Cap 3. The shape of each step is pinned by test/unit/vectors.test.ts, so a change in the protocol
 * that moves a message shows there rather than silently thinning the coverage.
 */
const SCRIPT: readonly Step[] = [
  { operation: 'reseed', members: [1, 2, 3, 4, 5, 6, 7, 8], note: 'compact re-seed of an empty group (§7): S1(1,2,3) S2(4,5,6) S3(7,8); one ROSTER, one SEED each' },
  { operation: 'join', members: [9], note: 'join into S3, which has room (§4): J1 for S3, J2 for the rest, J3 to 9' },
  { operation: 'join', members: [10], note: 'join into a new S4 (§4): J2 with the new subgroup flag carries F_S4, J3 to 10' },
  { operation: 'leave', members: [5], note: 'plain leave of the middle member of S2 (§5): M1 with phi_5 and beta_5, M2 with F_S2 and B_S2' },
  {
    operation: 'recover',
    members: [1, 3, 7],
    note: 'collusion recovery (§6): B to 2 (S1 keeps no P or Q), A for S3 under beta_7, C under B_S3 for S4, D for S2 between Sa=S1 and Sb=S3',
  },
  { operation: 'periodic', members: [], note: 'periodic rekey (§7): PERIODIC under KG' },
  { operation: 'resync', members: [8], note: 'full-state resync of 8 under its node key (§7); no epoch change' },
  {
    operation: 'batch join',
    members: [11, 12, 13, 14],
    note: 'batch join into new chained subgroups S5(11,12,13) S6(14) (§4): J2 with the chain flag, BUNDLE under KB, SEED with KB each',
  },
];

export interface MessageVector {
  readonly type: MessageType;
  readonly to: Recipient;
  readonly hex: string;
}

export interface OperationVector {
  readonly operation: Operation;
  readonly members: readonly number[];
  readonly note: string;
  /** the group's epoch after the operation; every message of it carries this epoch */
  readonly epoch: number;
  /** the KM's random draws during the operation, in order */
  readonly drawn: readonly string[];
  /** KG after the operation, and the fingerprint a meter acknowledges it with (§7) */
  readonly groupKey: string;
  readonly fingerprint: string;
  readonly subgroups: readonly { readonly id: number; readonly members: readonly number[] }[];
  readonly messages: readonly MessageVector[];
}

export interface MessageVectors {
  readonly description: string;
  readonly inputs: {
    readonly groupId: number;
    readonly subgroupCap: number;
    readonly kmSigningSeed: string;
    readonly kmPublicKey: string;
    readonly random: { readonly generator: string; readonly seed: number; readonly entropyInput: string; readonly drawnAtConstruction: readonly string[] };
    readonly members: readonly { readonly id: number; readonly nodeKey: string }[];
  };
  readonly operations: readonly OperationVector[];
}

/** A Random that keeps what it hands out, so the vectors can list the KM's draws. */
function recording(random: Random): { random: Random; take(): string[] } {
  let drawn: string[] = [];
  return {
    random: (length) => {
      const bytes = random(length);
      drawn.push(toHex(bytes));
      return bytes;
    },
    take: () => {
      const taken = drawn;
      drawn = [];
      return taken;
    },
  };
}

/** The 32-byte entropy input seededRandom gives the DRBG: the seed as a big-endian u32, then zeros (random.ts). */
export function entropyInput(seed: number): Uint8Array {
  return new ByteWriter(32).u32(seed).raw(new Uint8Array(28)).done();
}

function perform(km: KeyManager, step: Step, commissioning: ReadonlyMap<number, Commissioning>, random: Random): Executed {
  const named = step.members.map((id) => commissioning.get(id)!);
  switch (step.operation) {
    case 'reseed': {
      const executed = km.reseed(named, random);
      return { ...executed, messages: [...km.reseedMessages()] };
    }
    case 'join':
      return km.join(named[0]!, random);
    case 'leave':
      return km.remove(step.members, { suspected: false }, random);
    case 'recover':
      return km.remove(step.members, { suspected: true }, random);
    case 'periodic':
      return km.periodicRekey(random);
    case 'resync':
      return km.resync(step.members[0]!);
    case 'batch join': {
      const runs = km.batchJoin(named, random);
      if (runs.length !== 1) throw new Error(`the batch of ${named.length} ran as ${runs.length} operations, not one into new subgroups`);
      return runs[0]!;
    }
  }
}

/**
 * Runs the script on one KeyManager. `observe` sees the KM after each operation, while its state is
 * that operation's: the replay test compares members with it there.
 */
export function messageVectors(crypto: GrepCrypto, observe?: (index: number, km: KeyManager) => void): MessageVectors {
  const inputs = seededRandom(INPUT_SEED);
  const signingKey = inputs(32);
  const commissioning = new Map(METERS.map((id) => [id, { id, nodeKey: inputs(16) }] as const));
  const kmRandom = recording(seededRandom(KM_SEED));
  const km = new KeyManager({ groupId: GROUP_ID, signingKey, subgroupCap: SUBGROUP_CAP, crypto }, kmRandom.random);
  const drawnAtConstruction = kmRandom.take();
  const operations = SCRIPT.map((step, index): OperationVector => {
    const executed = perform(km, step, commissioning, kmRandom.random);
    const vector: OperationVector = {
      operation: step.operation,
      members: step.members,
      note: step.note,
      epoch: executed.epoch,
      drawn: kmRandom.take(),
      groupKey: toHex(km.groupKey()),
      fingerprint: toHex(kgFingerprint(crypto, km.groupKey())),
      subgroups: [...km.subgroups()].map(({ id, members }) => ({ id, members: [...members] })),
      messages: executed.messages.map((message) => ({ type: message.type, to: message.to, hex: toHex(message.bytes) })),
    };
    observe?.(index, km);
    return vector;
  });
  return {
    description:
      'GREP messages from fixed inputs (GREP.md §4-§8, wire format version 1). Give every meter every broadcast (to "all") and its own unicasts, in order: each meter named in an operation\'s subgroups must then hold groupKey at that epoch; meters not in the group must not. The KM draws from seededRandom(seed), an AES-128 CTR_DRBG (NIST SP 800-90A, no derivation function, as @noble/ciphers rngAesCtrDrbg128) over entropyInput; "drawn" lists each request\'s output, so a KM can be replayed without that generator.',
    inputs: {
      groupId: GROUP_ID,
      subgroupCap: SUBGROUP_CAP,
      kmSigningSeed: toHex(signingKey),
      kmPublicKey: toHex(km.publicKey),
      random: { generator: 'seededRandom', seed: KM_SEED, entropyInput: toHex(entropyInput(KM_SEED)), drawnAtConstruction },
      members: [...commissioning.values()].map(({ id, nodeKey }) => ({ id, nodeKey: toHex(nodeKey) })),
    },
    operations,
  };
}

/*
 * The byte layouts of GREP.md §5 and §7, written here from the spec rather than taken from tokens.ts and
 * chain.ts: a firmware author reads the exact HKDF inputs off the vectors, and the test checks that
 * HKDF over them gives the core's output, so the spec and the code cannot drift apart unseen.
 */
const utf8 = (text: string) => new TextEncoder().encode(text);
const CHAIN_KIND_CODE: Record<ChainKind, number> = { 'node backward': 1, 'node forward': 2, 'subgroup backward': 3, 'subgroup forward': 4 };
const chainInfo = (kind: ChainKind, owner: number, epoch: number) => new ByteWriter(19).raw(utf8('grep chain')).u8(CHAIN_KIND_CODE[kind]).u32(owner).u32(epoch).done();
const refreshInfo = (label: TokenLabel, owner: number, epoch: number) => {
  const bytes = utf8(label);
  return new ByteWriter(bytes.length + 8).raw(bytes).u32(owner).u32(epoch).done();
};

export interface DerivationVectors {
  readonly description: string;
  readonly refreshToken: readonly { label: TokenLabel; key: string; owner: number; epoch: number; token: string; ikm: string; info: string; out: string }[];
  readonly chainStep: readonly { kind: ChainKind; kindCode: number; owner: number; epoch: number; previous: string; info: string; out: string }[];
  readonly kgFingerprint: readonly { kg: string; fingerprint: string }[];
  readonly unrollChain: readonly { kind: ChainKind; epoch: number; owners: readonly number[]; first: string; values: readonly string[] }[];
  readonly drawChains: readonly {
    level: 'node' | 'subgroup';
    epoch: number;
    owners: readonly number[];
    heads: { backward: string; forward: string };
    backward: readonly string[];
    forward: readonly string[];
  }[];
}

export function derivationVectors(crypto: GrepCrypto): DerivationVectors {
  const random = seededRandom(DERIVATION_SEED);
  // owners and epochs with bytes set in every position, so a byte-order or width slip changes the output
  const places = [
    { owner: 7, epoch: 3 },
    { owner: 0x01020304, epoch: 0xfffffffe },
  ];
  const labels: TokenLabel[] = ['grep node', 'grep subgroup'];
  const kinds = Object.keys(CHAIN_KIND_CODE) as ChainKind[];
  const unrolled = (kind: ChainKind, epoch: number, owners: number[]) => {
    const first = random(16);
    return { kind, epoch, owners, first: toHex(first), values: unrollChain(crypto, kind, epoch, owners, first).map(toHex) };
  };
  const drawn = (level: 'node' | 'subgroup', epoch: number, owners: number[]) => {
    const heads = { backward: random(16), forward: random(16) };
    const chains = drawChains(crypto, level, epoch, owners, heads);
    return { level, epoch, owners, heads: { backward: toHex(heads.backward), forward: toHex(heads.forward) }, backward: chains.backward.map(toHex), forward: chains.forward.map(toHex) };
  };
  return {
    description:
      'GREP derivations (GREP.md §5, §7, §8). HKDF-SHA-256 with empty salt and 16-byte output: refreshToken = HKDF(ikm = key ‖ token, info = label ‖ owner u32 ‖ epoch u32); chainStep = HKDF(ikm = previous, info = "grep chain" ‖ kind u8 ‖ owner u32 ‖ epoch u32), the owner being the token the step produces; fingerprint = HMAC-SHA-256(kg, "fp")[0..4]. Integers big-endian. unrollChain: values[0] = first, values[i] = chainStep(owners[i], values[i-1]). drawChains: backward unrolled from the youngest owner down (head = its token), forward from the oldest up, both listed in the owners\' order.',
    refreshToken: labels.flatMap((label) =>
      places.map(({ owner, epoch }) => {
        const key = random(16);
        const token = random(16);
        return {
          label,
          key: toHex(key),
          owner,
          epoch,
          token: toHex(token),
          ikm: toHex(concatBytes(key, token)),
          info: toHex(refreshInfo(label, owner, epoch)),
          out: toHex(refreshToken(crypto, key, label, owner, epoch, token)),
        };
      }),
    ),
    chainStep: kinds.flatMap((kind) =>
      places.map(({ owner, epoch }) => {
        const previous = random(16);
        return {
          kind,
          kindCode: CHAIN_KIND_CODE[kind],
          owner,
          epoch,
          previous: toHex(previous),
          info: toHex(chainInfo(kind, owner, epoch)),
          out: toHex(chainStep(crypto, kind, owner, epoch, previous)),
        };
      }),
    ),
    kgFingerprint: [random(16), random(16)].map((kg) => ({ kg: toHex(kg), fingerprint: toHex(kgFingerprint(crypto, kg)) })),
    unrollChain: [unrolled('node backward', 5, [9, 8, 7, 6]), unrolled('subgroup forward', 0x01000002, [1, 2, 3, 4])],
    drawChains: [drawn('node', 4, [21, 22, 23, 24]), drawn('subgroup', 4, [1, 2, 3])],
  };
}

/** Pretty-printed, with lists of numbers kept on one line: deterministic, and a diff shows what moved. */
export function renderVectors(vectors: MessageVectors | DerivationVectors): string {
  return `${JSON.stringify(vectors, null, 2).replace(/\[\s*(-?\d+(?:,\s*-?\d+)*)\s*\]/g, (_, list: string) => `[${list.split(/,\s*/).join(', ')}]`)}\n`;
}

export const VECTOR_FILES = { messages: MESSAGES_FILE, derivations: DERIVATIONS_FILE };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(MESSAGES_FILE, renderVectors(messageVectors(nobleCrypto)));
  writeFileSync(DERIVATIONS_FILE, renderVectors(derivationVectors(nobleCrypto)));
  console.log(`wrote ${fileURLToPath(MESSAGES_FILE)} and ${fileURLToPath(DERIVATIONS_FILE)}`);
}
