import {
  type Executed,
  KeyManager,
  Member,
  type MemberOutcome,
  type GrepCrypto,
  nobleCrypto,
  type Random,
  seededRandom,
  equalBytes,
  toHex,
} from '../../main/grep/index.js';

/** A KM and real Member instances that receive the KM's real messages: the harness of the protocol tests. */
export class Fleet {
  readonly km: KeyManager;
  readonly members = new Map<number, Member>();
  readonly random: Random;
  readonly outcomes: { member: number; type: string; outcome: MemberOutcome }[] = [];

  constructor(options: { seed?: number; cap?: number; crypto?: GrepCrypto; groupId?: number } = {}) {
    this.random = seededRandom(options.seed ?? 1);
    const crypto = options.crypto ?? nobleCrypto;
    this.km = new KeyManager({ groupId: options.groupId ?? 7, signingKey: this.random(32), subgroupCap: options.cap ?? 4, crypto }, this.random);
  }

  private crypto(): GrepCrypto {
    return nobleCrypto;
  }

  commission(id: number): Member {
    const member = new Member({ id, groupId: this.km.groupId, nodeKey: this.random(16), kmPublicKey: this.km.publicKey }, this.crypto());
    this.members.set(id, member);
    return member;
  }

  join(id: number): Executed {
    const member = this.commission(id);
    return this.deliver(this.km.join({ id, nodeKey: member.ownNodeKey }, this.random));
  }

  remove(ids: number[], suspected: boolean): Executed {
    return this.deliver(this.km.remove(ids, { suspected }, this.random));
  }

  /** Every member sees every broadcast; a unicast reaches its addressee only. Removed members keep listening. */
  deliver(executed: Executed, listeners: Iterable<Member> = this.members.values()): Executed {
    const all = [...listeners];
    for (const message of executed.messages) {
      const targets = message.to === 'all' ? all : all.filter((m) => m.id === message.to);
      for (const member of targets) this.outcomes.push({ member: member.id, type: message.type, outcome: member.receive(message.bytes) });
    }
    return executed;
  }

  /** Invariant 2: every current member holds the KM's KG, its KS and exactly the KM's token values. */
  mismatches(): string[] {
    const problems: string[] = [];
    for (const { members } of this.km.subgroups()) {
      for (const id of members) {
        const held = this.members.get(id)!.secrets;
        const expected = this.km.memberState(id);
        if (!held) { problems.push(`${id}: holds nothing`); continue; }
        if (held.epoch !== this.km.epoch) problems.push(`${id}: epoch ${held.epoch} != ${this.km.epoch}`);
        if (!equalBytes(held.kg, expected.kg)) problems.push(`${id}: KG differs`);
        if (!equalBytes(held.ks, expected.ks)) problems.push(`${id}: KS differs`);
        if (held.subgroup !== expected.subgroup) problems.push(`${id}: subgroup ${held.subgroup} != ${expected.subgroup}`);
        for (const list of ['nodeBackward', 'nodeForward', 'subgroupBackward', 'subgroupForward'] as const) {
          const want = new Map(expected[list].map((e) => [e.owner, toHex(e.value)]));
          const have = new Map([...held[list]].map(([owner, value]) => [owner, toHex(value)]));
          if (want.size !== have.size || [...want].some(([owner, value]) => have.get(owner) !== value)) {
            problems.push(`${id}: ${list} differs (want ${[...want.keys()]}, have ${[...have.keys()]})`);
          }
        }
      }
    }
    return problems;
  }
}
