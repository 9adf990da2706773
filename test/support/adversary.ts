import {
  chainStep,
  decodeBundle,
  decodeMemberState,
  decodeMessage,
  decodeSeed,
  Flag,
  type GrepCrypto,
  type MemberKeys,
  type Message,
  openItem,
  type Outgoing,
  refreshToken,
  splitKeys,
  toHex,
} from '../../main/grep/index.js';

/** What happened at one epoch, as everyone can see it: the messages, and who sat in which subgroup after. */
export interface PublicEpoch {
  readonly epoch: number;
  readonly messages: readonly Outgoing[];
  /** subgroup of every member after the operation, and of the members removed by it (before) */
  readonly subgroupOf: ReadonlyMap<number, number>;
  /** what every member held after the operation, for seeding a corrupted member's history */
  readonly snapshots: ReadonlyMap<number, MemberKeys>;
}

type Tag = string;
type Roster = { readonly first: number; readonly part: NonNullable<Message['roster']> };
const at = (name: string, epoch: number): Tag => `${name}@${epoch}`;

/**
 * The adversary of GREP.md §12.3: it holds everything its corrupted members ever held (each one's node
 * key opens its whole unicast history), sees every message, opens every item it can with real AEAD,
 * and applies every public token refresh with the keys it learns, to a fixpoint. Decryption is by trial:
 * every item of epoch e is tried with every value it knows as of e-1, so a message sent under the wrong
 * key is caught too, not just the keys the spec names.
 */
export class Adversary {
  /** tag -> value (hex) */
  readonly knows = new Map<Tag, string>();
  private readonly nodeKeys = new Map<number, Uint8Array>();

  constructor(
    private readonly crypto: GrepCrypto,
    private readonly history: readonly PublicEpoch[],
    private readonly corrupted: ReadonlySet<number>,
    nodeKeys: ReadonlyMap<number, Uint8Array>,
  ) {
    for (const id of corrupted) {
      const key = nodeKeys.get(id);
      if (key) this.nodeKeys.set(id, key);
    }
    this.run();
  }

  knowsGroupKey(epoch: number): boolean {
    return this.knows.has(at('KG', epoch));
  }

  /** Every value it holds, to compare with the KM's current secrets. */
  values(): Set<string> {
    return new Set([...this.knows.values(), ...[...this.nodeKeys.values()].map(toHex)]);
  }

  private learn(tag: Tag, value: Uint8Array): void {
    if (!this.knows.has(tag)) this.knows.set(tag, toHex(value));
  }

  private value(tag: Tag): Uint8Array | undefined {
    const hex = this.knows.get(tag);
    return hex === undefined ? undefined : Uint8Array.from(Buffer.from(hex, 'hex'));
  }

  private learnState(epoch: number, keys: Omit<MemberKeys, 'epoch'>): void {
    this.learn(at('KG', epoch), keys.kg);
    this.learn(at(`KS:${keys.subgroup}`, epoch), keys.ks);
    for (const [owner, value] of keys.nodeBackward) this.learn(at(`beta:${owner}`, epoch), value);
    for (const [owner, value] of keys.nodeForward) this.learn(at(`phi:${owner}`, epoch), value);
    for (const [owner, value] of keys.subgroupBackward) this.learn(at(`B:${owner}`, epoch), value);
    for (const [owner, value] of keys.subgroupForward) this.learn(at(`F:${owner}`, epoch), value);
  }

  private run(): void {
    let previous: PublicEpoch | undefined;
    for (const step of this.history) {
      const decoded = step.messages.map((m) => decodeMessage(m.bytes));
      const before = previous?.subgroupOf ?? new Map<number, number>();
      // rosters are public; SEEDs first, since the batch key they carry opens the BUNDLE of the same epoch
      const rosters = decoded.filter((m) => m.roster).map((m) => ({ first: m.header.subject, part: m.roster! }));
      const order = (m: Message) => (m.header.type === 'SEED' ? 0 : m.header.type === 'BUNDLE' ? 1 : 2);
      for (const message of [...decoded].sort((a, b) => order(a) - order(b))) this.open(step.epoch, message, before, step.subgroupOf, rosters);
      this.closeChains(step.epoch, rosters);
      for (const id of this.corrupted) {
        const snapshot = step.snapshots.get(id);
        // a member that missed this epoch still holds an older one's values
        if (snapshot) this.learnState(snapshot.epoch, snapshot);
      }
      if (previous) this.carry(previous.epoch, step.epoch, decoded, before, step.subgroupOf);
      previous = step;
    }
  }

  private candidates(epoch: number, message: Message): Uint8Array[] {
    // a BUNDLE is sealed under the batch key of its own epoch, which SEEDs carry
    if (message.header.type === 'BUNDLE') return [...this.knows].filter(([tag]) => tag === at('KB', epoch)).map(([, hex]) => Uint8Array.from(Buffer.from(hex, 'hex')));
    const keys: Uint8Array[] = [...this.nodeKeys.values()];
    const suffix = `@${epoch - 1}`;
    for (const [tag, hex] of this.knows) if (tag.endsWith(suffix)) keys.push(Uint8Array.from(Buffer.from(hex, 'hex')));
    if (message.header.type === 'RESYNC') {
      // a RESYNC carries the state of its own epoch, sealed under Ku only
      return [...this.nodeKeys.values()];
    }
    return keys;
  }

  private open(epoch: number, message: Message, before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>, rosters: readonly Roster[]): void {
    const { header } = message;
    for (const item of message.items) {
      for (const key of this.candidates(epoch, message)) {
        const plaintext = openItem(this.crypto, message, item, key);
        if (!plaintext) continue;
        this.learnPlaintext(header.epoch, message, item.owner, plaintext, before, after, rosters);
        break;
      }
    }
  }

  private learnPlaintext(
    epoch: number,
    message: Message,
    owner: number,
    plaintext: Uint8Array,
    before: ReadonlyMap<number, number>,
    after: ReadonlyMap<number, number>,
    rosters: readonly Roster[],
  ): void {
    const { header } = message;
    const learnKeys = (subgroup: number | undefined) => {
      const [ks, kg] = splitKeys(plaintext, 2);
      if (subgroup !== undefined) this.learn(at(`KS:${subgroup}`, epoch), ks!);
      this.learn(at('KG', epoch), kg!);
    };
    switch (header.type) {
      case 'J1': {
        const [ks, kg, phi] = splitKeys(plaintext, 3);
        this.learn(at(`KS:${owner}`, epoch), ks!);
        this.learn(at('KG', epoch), kg!);
        this.learn(at(`phi:${header.subject}`, epoch), phi!);
        return;
      }
      case 'J2': {
        const keys = splitKeys(plaintext, header.flags & Flag.SUBGROUP_NEW ? 2 : 1);
        this.learn(at('KG', epoch), keys[0]!);
        if (keys[1]) this.learn(at(`F:${owner}`, epoch), keys[1]);
        // a batch join's F_{N_1} hashes up to the later new subgroups, publicly
        if (keys[1] && header.flags & Flag.SUBGROUP_CHAIN) {
          let value = keys[1];
          for (let id = owner + 1; id <= header.subject; id++) this.learn(at(`F:${id}`, epoch), (value = chainStep(this.crypto, 'subgroup forward', id, epoch, value)));
        }
        return;
      }
      case 'SEED': {
        const seed = decodeSeed(plaintext);
        this.learn(at('KG', epoch), seed.kg);
        this.learn(at(`KS:${seed.subgroup}`, epoch), seed.ks);
        if (seed.kb) this.learn(at('KB', epoch), seed.kb);
        const roster = rosters.find(({ first, part }) => seed.subgroup >= first && seed.subgroup < first + part.subgroups.length);
        const members = roster?.part.subgroups[seed.subgroup - roster.first] ?? [];
        const u = members.indexOf(header.subject);
        if (seed.nodeBackward && u > 0) this.learn(at(`beta:${members[u - 1]}`, epoch), seed.nodeBackward);
        if (seed.nodeForward && u >= 0 && u < members.length - 1) this.learn(at(`phi:${members[u + 1]}`, epoch), seed.nodeForward);
        if (seed.subgroupBackward) this.learn(at(`B:${seed.subgroup - 1}`, epoch), seed.subgroupBackward);
        if (seed.subgroupForward) this.learn(at(`F:${seed.subgroup + 1}`, epoch), seed.subgroupForward);
        return;
      }
      case 'BUNDLE':
        for (const entry of decodeBundle(plaintext)) this.learn(at(`B:${entry.owner}`, epoch), entry.value);
        return;
      case 'J3':
      case 'RESYNC':
        this.learnState(epoch, toMaps(decodeMemberState(plaintext)));
        return;
      case 'M1':
        return learnKeys(before.get(header.subject));
      case 'A':
        return learnKeys(header.subject);
      case 'B':
        return learnKeys(after.get(header.subject));
      default:
        this.learn(at('KG', epoch), splitKeys(plaintext, 1)[0]!);
    }
  }

  /**
   * The chains of a re-seed or batch join are public functions: from any token it holds, the
   * adversary hashes on in the chain's direction (beta and B towards the older, phi and F towards the
   * younger), as far as the roster goes.
   */
  private closeChains(epoch: number, rosters: readonly Roster[]): void {
    for (const { part } of rosters) {
      for (const members of part.subgroups) {
        this.walk(epoch, 'beta', 'node backward', [...members].reverse());
        this.walk(epoch, 'phi', 'node forward', members);
      }
      const ids = Array.from({ length: part.rangeCount }, (_, index) => part.rangeFirst + index);
      this.walk(epoch, 'B', 'subgroup backward', [...ids].reverse());
      this.walk(epoch, 'F', 'subgroup forward', ids);
    }
  }

  private walk(epoch: number, name: string, kind: Parameters<typeof chainStep>[1], owners: readonly number[]): void {
    for (let index = 1; index < owners.length; index++) {
      const previous = this.value(at(`${name}:${owners[index - 1]}`, epoch));
      if (previous) this.learn(at(`${name}:${owners[index]}`, epoch), chainStep(this.crypto, kind, owners[index]!, epoch, previous));
    }
  }

  /** Values of epoch `from` that live on into `to`: unchanged, or refreshed publicly under a key it may know. */
  private carry(
    from: number,
    to: number,
    messages: readonly Message[],
    before: ReadonlyMap<number, number>,
    after: ReadonlyMap<number, number>,
  ): void {
    const types = new Set(messages.map((m) => m.header.type));
    const isRemoval = ['M1', 'M2', 'A', 'B', 'C', 'D'].some((t) => types.has(t as never));
    const subgroupTokensRefreshed = isRemoval || types.has('PERIODIC');
    const nodeRefreshed = new Set<number>();
    const ksChanged = new Set<number>();
    for (const { header } of messages) {
      if (header.type === 'M1') nodeRefreshed.add(before.get(header.subject)!);
      if (header.type === 'A') nodeRefreshed.add(header.subject);
      if (header.type === 'B') nodeRefreshed.add(after.get(header.subject)!);
      if (header.type === 'J3') ksChanged.add(after.get(header.subject)!);
    }
    for (const s of nodeRefreshed) ksChanged.add(s);
    for (const [tag, hex] of [...this.knows]) {
      if (!tag.endsWith(`@${from}`)) continue;
      const name = tag.slice(0, tag.lastIndexOf('@'));
      const [kind, ownerText] = name.split(':') as [string, string | undefined];
      const owner = Number(ownerText);
      const value = Uint8Array.from(Buffer.from(hex, 'hex'));
      if (kind === 'KS' && !ksChanged.has(owner)) this.learn(at(name, to), value);
      if (kind === 'beta' || kind === 'phi') {
        const subgroup = after.get(owner) ?? before.get(owner);
        if (subgroup === undefined || !nodeRefreshed.has(subgroup)) this.learn(at(name, to), value);
        else {
          const ks = this.value(at(`KS:${subgroup}`, to));
          if (ks) this.learn(at(name, to), refreshToken(this.crypto, ks, 'grep node', owner, to, value));
        }
      }
      if (kind === 'B' || kind === 'F') {
        if (!subgroupTokensRefreshed) this.learn(at(name, to), value);
        else {
          const kg = this.value(at('KG', to));
          if (kg) this.learn(at(name, to), refreshToken(this.crypto, kg, 'grep subgroup', owner, to, value));
        }
      }
    }
  }
}

function toMaps(state: ReturnType<typeof decodeMemberState>): Omit<MemberKeys, 'epoch'> {
  const map = (entries: typeof state.nodeBackward) => new Map(entries.map((e) => [e.owner, e.value] as const));
  return {
    kg: state.kg,
    ks: state.ks,
    subgroup: state.subgroup,
    nodeBackward: map(state.nodeBackward),
    nodeForward: map(state.nodeForward),
    subgroupBackward: map(state.subgroupBackward),
    subgroupForward: map(state.subgroupForward),
  };
}
