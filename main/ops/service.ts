import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import { defaultSubgroupCap, encodeCommand, type Executed, type GrepCrypto, GrepError, KEY_BYTES, KeyManager, type KeyManagerConfig, kgFingerprint, type Plan, type Random, type SuspicionEntry, toHex } from '../grep/index.js';
import type { DcReport } from '../link/client.js';
import { type GroupRecord, type KmStore, type MeterStatus, type OutboxEntry, storedMessage } from '../store/index.js';
import { CommandConfirmations, CommandRequest, type CommandResult, planCommand } from './commands.js';
import { Convergence, type ConvergenceResult, grepSource, type LoggedMessage } from './convergence.js';
import { type DcPort, DurableLink, type LinkClock } from './durableLink.js';
import { onLinkRestored } from './linkTransport.js';
import { ServiceError } from './errors.js';
import { type OperationInput, type OperatorPlan, planCommission, planOperation, type StoredPlan } from './operations.js';
import { checkCommissionList, CommissionInput, countByKind, MeterIds, parseCommissioningCsv, PlanId, validate } from './planning.js';
import { SyncTable } from './syncTable.js';
import { escapeControl } from '../text/escape.js';

export type { CommandRequest, CommandResult } from './commands.js';
export type { OperatorPlan } from './operations.js';
export type { MeterStatus } from '../store/index.js';

/** The plans that rekey or resync, run through the convergence driver. */
type RekeyPlan = Exclude<StoredPlan, { operation: 'command' }>;

/*
 * The Key Manager service: plan -> confirm -> execute -> record (ARCHITECTURE.md) over the store, the
 * GREP core and the DC link. An execution commits the new sealed KM state, the member rows, the history
 * and audit rows and every transfer it will send in one transaction before the first byte leaves
 * (GREP.md §11); the transfers then go out from the outbox, and whatever the DC had not accepted when
 * the process stopped is sent again on the next open. Members ignore an epoch they already hold.
 * The outbox is also the replay log of §7: a service opened after a restart repairs laggards from the
 * stored messages of the last LOG_EPOCHS epochs, and prunes what is older once the DC accepted it.
 * A new operation may execute as soon as the previous one has committed (an eviction never waits for
 * a rollout's acks): the convergence of the earlier one is taken over by the later one's.
 */

/** epochs of messages kept for replay, in memory and in the outbox */
export const LOG_EPOCHS = 16;

export interface ServiceOptions {
  readonly store: KmStore;
  readonly group: string;
  /** who is operating, for the history and the audit log */
  readonly actor: string;
  readonly link: DcPort;
  /** the link's clock; by default real time, waits woken by what the DC says (linkTransport) */
  readonly clock?: LinkClock;
  readonly crypto?: GrepCrypto;
  readonly random?: Random;
  /** seconds to wait for acks once a round is on the medium (Convergence) */
  readonly ackTimeout?: number;
  readonly maxRounds?: number;
  /** called between the commit and the first send; the crash-safety tests stop the service here */
  readonly afterCommit?: () => void;
  /** called once a leave or recovery has committed, with the meters it removed (firmware campaigns drop them) */
  readonly onRemoved?: (meters: readonly number[]) => void;
}

/** What one plain leave puts on the medium. */
export interface LeaveCost {
  readonly bytes: number;
  readonly broadcasts: number;
  readonly unicasts: number;
}

export interface ExecutionResult extends ConvergenceResult {
  readonly planId: string;
  readonly epochFrom: number;
}


/** bad CSV lines named in a refusal; the plan itself lists them all */
const LISTED_LINES = 20;

/** The first LISTED_LINES line numbers, and how many more: a refusal of a 10^5-line CSV stays readable. */
function lineList(rejected: readonly { readonly line: number }[]): string {
  const listed = rejected.slice(0, LISTED_LINES).map((row) => row.line).join(', ');
  return rejected.length > LISTED_LINES ? `${listed} and ${rejected.length - LISTED_LINES} more` : listed;
}

/** A refusal of the protocol core (a departed meter that is not one, say) in the service's terms. */
function serviceError(error: unknown): unknown {
  return error instanceof GrepError ? new ServiceError(error.code === 'UNKNOWN_MEMBER' ? 'UNKNOWN_METER' : 'BAD_INPUT', error.message) : error;
}

const GroupInput = z.object({ id: z.number().int().min(0).max(0xffffffff), name: z.string().trim().min(1).max(64), plannedSize: z.number().int().min(1).max(10_000_000) }).strict();

export class KeyManagerService {
  private km: KeyManager;
  private convergence: Convergence;
  private readonly durable: DurableLink;
  private readonly sync: SyncTable;
  private readonly commands = new CommandConfirmations();
  private readonly crypto: GrepCrypto;
  private readonly random: Random;
  private readonly config: KeyManagerConfig;
  private readonly group: GroupRecord;
  private readonly detach: () => void;
  /** rekeys whose convergence is underway; a later one takes over an earlier one's */
  private converging = 0;
  /** group commands being sent and confirmed: one at a time, so their resends stay in order */
  private sendingCommand = false;
  /** the members are being asked again after a reconnect */
  private checking = false;

  /** A new group with a fresh KM signing key; its public key goes to the meters at commissioning. */
  static createGroup(store: KmStore, input: { id: number; name: string; plannedSize: number }, actor: string, random: Random = nodeRandom, crypto: GrepCrypto = nodeCrypto): GroupRecord {
    const { id, name, plannedSize } = validate(GroupInput, input, 'group');
    const signingKey = random(32);
    const subgroupCap = defaultSubgroupCap(plannedSize);
    const km = new KeyManager({ groupId: id, signingKey, subgroupCap, crypto }, random);
    return store.transaction(() => {
      const group = store.createGroup({ id, name, subgroupCap, publicKey: km.publicKey, state: km.snapshot(), signingKey, epoch: km.epoch });
      store.audit(actor, 'create group', { group: name, id, subgroupCap, kmPublicKey: toHex(km.publicKey) });
      return group;
    });
  }

  /** Loads the group and resends every transfer the DC has not accepted; catchUp() then repairs. */
  static open(options: ServiceOptions): KeyManagerService {
    return new KeyManagerService(options);
  }

  private constructor(private readonly options: ServiceOptions) {
    const { store, link } = options;
    this.crypto = options.crypto ?? nodeCrypto;
    this.random = options.random ?? nodeRandom;
    this.group = store.group(options.group);
    const { signingKey } = store.groupSecrets(this.group.id);
    this.config = { groupId: this.group.id, signingKey, subgroupCap: this.group.subgroupCap, crypto: this.crypto };
    this.km = this.loadKm();
    this.durable = new DurableLink(store, this.group.id, link, options.clock);
    this.sync = new SyncTable(store, this.group.id, this.crypto);
    this.convergence = this.newConvergence();

    // marked a tick later, together: one commit per burst of acceptances rather than one per transfer (a
    // mark that a crash loses only means a resend, which the DC drops as a transfer id it has seen)
    let accepted: number[] = [];
    const markAccepted = () => {
      const ids = accepted;
      accepted = [];
      if (ids.length > 0 && store.db.open) store.markAccepted(ids);
    };
    const onAccepted = (transfer: number) => {
      if (accepted.push(transfer) === 1) setImmediate(markAccepted);
    };
    // a DC that restarted has lost its copy of KG (§1): it gets it again, once per link session
    let keyRestored = false;
    const onMessage = (message: DcReport) => {
      this.convergence.hear(message);
      if (message.kind === 'status' && message.status.epoch !== this.km.epoch && !keyRestored) {
        keyRestored = true;
        this.durable.sendNew({ kind: 'keyUpdate', purpose: 'key', epoch: this.km.epoch, member: null, payload: this.km.groupKey(), message: null });
      }
      if (message.kind !== 'report') return;
      this.commands.observe(message.reports);
      this.sync.record(message.reports, this.km);
    };
    // a DC that went away may come back restarted: the frames it held are lost (their windows start
    // now), and the meters are asked again and repaired if behind
    const detachRestored = onLinkRestored(link, () => {
      this.convergence.linkRestored();
      keyRestored = false;
      if (this.converging === 0 && !this.checking) {
        // nobody awaits this check: a failure is said on stderr (escaped: it may quote the DC) rather than lost
        this.reconfirm().catch((error: unknown) => console.warn(`[service] re-check after the DC link came back: ${escapeControl((error as Error).message)}`));
      }
    });
    link.on('accepted', onAccepted);
    link.on('message', onMessage);
    this.detach = () => {
      link.off('accepted', onAccepted);
      link.off('message', onMessage);
      detachRestored();
      markAccepted();
    };
    // what the DC never accepted goes again, each row once under its id; the driver follows the operations' and repairs' rows on the air
    for (const entry of store.pendingOutbox(this.group.id)) {
      this.durable.dispatch(entry);
      const message = storedMessage(entry);
      if (message) this.convergence.handedOver(message, entry.id);
    }
    store.transaction(() => store.pruneOutbox(this.group.id, this.km.epoch - LOG_EPOCHS + 1));
  }

  get epoch(): number {
    return this.km.epoch;
  }

  get publicKey(): Uint8Array {
    return this.group.publicKey;
  }

  /** The group's current epoch and KG: a firmware campaign wraps its content key under it at send time. */
  groupKey(): { epoch: number; kg: Uint8Array } {
    return { epoch: this.km.epoch, kg: this.km.groupKey() };
  }

  /** Stops listening to the link; the link and the store belong to the caller. */
  close(): void {
    this.detach();
  }

  /** A short list (the console's form, scripts), checked at once; a fleet comes as a CSV. */
  async planCommission(meters: readonly CommissionInput[]): Promise<OperatorPlan> {
    if (Array.isArray(meters)) checkCommissionList(meters);
    const rows = validate(z.array(CommissionInput).min(1), meters, 'meters').map((meter, index) => ({ ...meter, line: index + 1, nodeKey: Uint8Array.from(Buffer.from(meter.nodeKey, 'hex')) }));
    const { plan, stored, secrets } = await planCommission({ operation: 'commission', rows, rejected: [] }, this.km);
    return this.savePlan(plan, stored, secrets);
  }

  /**
   * Bad lines are reported by number in the plan; executing it with them needs { acceptRejected: true }.
   * The CSV is read a slice at a time (parseCommissioningCsv), so the DC link keeps its session meanwhile.
   */
  async planCommissionCsv(csv: string): Promise<OperatorPlan> {
    const { rows, rejected } = await parseCommissioningCsv(validate(z.string(), csv, 'CSV'));
    if (rows.length === 0) throw new ServiceError('EMPTY_SET', `no valid meter in the CSV${rejected.length ? `; bad lines: ${lineList(rejected)}` : ''}`);
    const { plan, stored, secrets } = await planCommission({ operation: 'commission', rows, rejected }, this.km);
    return this.savePlan(plan, stored, secrets);
  }

  planLeave(meters: readonly number[]): OperatorPlan {
    return this.plan({ operation: 'leave', meters: validate(MeterIds, meters, 'meters') });
  }

  /**
   * Collusion recovery (§6): the suspected members are removed and recorded as suspect. Meters named
   * here that left earlier by a plain leave are suspected as departed: their places join the record.
   */
  planRecover(suspected: readonly number[]): OperatorPlan {
    const meters = validate(MeterIds, suspected, 'suspected meters');
    const departed = meters.filter((meter) => !this.km.has(meter) && this.km.hasDeparted(meter));
    const present = meters.filter((meter) => !departed.includes(meter));
    if (present.length === 0) throw new ServiceError('EMPTY_SET', `collusion recovery needs at least one present member; to suspect departed meters ${departed.join(' ')} alone, use suspect`);
    return this.plan({ operation: 'recover', meters: present, departed });
  }

  /** §7 re-seed: fresh keys and tokens for every member, an empty suspicion record. */
  planReseed(): OperatorPlan {
    return this.plan({ operation: 'reseed' });
  }

  /**
   * What a plain leave costs now, and with `departed` suspected too: the price of the suspicion record
   * the operator weighs against a re-seed. Sized on a member with neighbours on both sides where there
   * is one (the dearest plain leave), without saving a plan.
   */
  leaveCost(departed: readonly number[] = []): { readonly meter: number; readonly record: number; readonly plain: LeaveCost; readonly now: LeaveCost; readonly withSuspects: LeaveCost } | undefined {
    const subgroups = [...this.km.subgroups()];
    const typical = subgroups.slice(1, -1).find((subgroup) => subgroup.members.length >= 3) ?? subgroups.find((subgroup) => subgroup.members.length > 0);
    const meter = typical?.members[Math.min(1, typical.members.length - 1)];
    if (meter === undefined || this.km.size < 2) return undefined;
    const cost = (plan: Plan): LeaveCost => ({ bytes: plan.bytes, broadcasts: plan.broadcasts, unicasts: plan.unicasts });
    try {
      const now = this.km.planRemove([meter]);
      const added = now.recordAdds ?? { bytes: 0, broadcasts: 0, unicasts: 0 };
      const plain = { bytes: now.bytes - added.bytes, broadcasts: now.broadcasts - added.broadcasts, unicasts: now.unicasts - added.unicasts };
      return { meter, record: this.km.suspicion.length, plain, now: cost(now), withSuspects: cost(this.km.planRemove([meter], validate(MeterIds, departed, 'departed meters'))) };
    } catch (error) {
      throw serviceError(error);
    }
  }

  /**
   * Departed meters found compromised later (§6): their places go into the suspicion record, with no
   * message, committed at once; every later removal counts them until a re-seed. Returns what a plain
   * leave of a typical member costs now, for the operator to weigh a re-seed.
   */
  suspect(departed: readonly number[]): { readonly suspected: readonly number[]; readonly record: number } {
    const meters = validate(MeterIds, departed, 'departed meters');
    const { store, actor } = this.options;
    {
      const epoch = this.km.epoch;
      let entries: readonly SuspicionEntry[];
      try {
        // checks every meter before it changes anything
        entries = this.km.suspect(meters);
      } catch (error) {
        throw serviceError(error);
      }
      try {
        store.transaction(() => {
          this.checkCommittedEpoch(epoch);
          store.saveGroupState(this.group.id, epoch, this.km.snapshot());
          store.audit(actor, 'suspect departed', { meters: entries.map((entry) => entry.member), places: entries, record: this.km.suspicion.length });
        });
      } catch (error) {
        this.km = this.loadKm();
        this.convergence = this.newConvergence();
        throw error;
      }
      return { suspected: entries.map((entry) => entry.member), record: this.km.suspicion.length };
    }
  }

  planPeriodicRekey(): OperatorPlan {
    return this.plan({ operation: 'periodic' });
  }

  planCommand(request: CommandRequest): OperatorPlan {
    const { plan, stored } = planCommand(this.km, validate(CommandRequest, request, 'command'));
    return this.savePlan(plan, stored, undefined);
  }

  planResync(meters: readonly number[]): OperatorPlan {
    return this.plan({ operation: 'resync', meters: validate(MeterIds, meters, 'meters') });
  }

  /**
   * Runs a plan the operator has seen, then sends and repairs until every member acked or gave up, or a
   * later operation took over (`superseded`). Commits synchronously: two executions never interleave.
   */
  async execute(planId: string, confirm: { readonly acceptRejected?: boolean } = {}): Promise<ExecutionResult> {
    const { id, stored, secrets } = this.claimPlan(planId);
    if (stored.operation === 'command') throw new ServiceError('BAD_INPUT', `plan ${id} is a group command: run it with executeCommand`);
    if (stored.rejected.length > 0 && !confirm.acceptRejected) {
      throw new ServiceError('REJECTED_ROWS', `plan ${id} leaves out lines ${lineList(stored.rejected)}: confirm to commission the valid lines only`);
    }
    const { store } = this.options;
    const epochFrom = this.km.epoch;
    const startedAt = new Date();
    let committed: { historyId: number; key: OutboxEntry; messages: LoggedMessage[] };
    try {
      const executed = this.run(stored, secrets);
      committed = store.transaction(() => this.commit(id, stored, executed, epochFrom, startedAt));
    } catch (error) {
      // the in-memory KM may be ahead of the store: back to what is committed
      this.km = this.loadKm();
      this.convergence = this.newConvergence();
      throw error;
    }
    if (stored.operation === 'leave' || stored.operation === 'recover') this.options.onRemoved?.(stored.affected);
    this.options.afterCommit?.();

    this.durable.expectKey(committed.key);
    this.converging++;
    let result: ConvergenceResult;
    try {
      result = await this.convergence.converge({ messages: committed.messages });
    } finally {
      this.converging--;
    }
    this.sync.markUnreachable(result.unreachable);
    store.transaction(() => {
      store.finishHistory(committed.historyId, new Date(), outcome(result));
      store.audit(this.options.actor, 'result', { plan: id, epoch: result.epoch, converged: result.converged, superseded: result.superseded, unreachable: result.unreachable, resyncs: result.resyncs });
      store.pruneOutbox(this.group.id, this.km.epoch - LOG_EPOCHS + 1);
    });
    return { ...result, planId: id, epochFrom };
  }

  /** What the sync table says is unknown since the link came back, asked again and repaired; never overlapping itself. */
  private async reconfirm(): Promise<void> {
    this.checking = true;
    try {
      this.sync.markUnknown();
      const result = await this.convergence.reconfirm();
      this.sync.markUnreachable(result.unreachable);
    } catch (error) {
      // a store closed meanwhile: the next open repairs from the sync table
      if (this.options.store.db.open) throw error;
    } finally {
      this.checking = false;
    }
  }

  /** Sends a planned group command, resending it (same seq, byte-identical) while targeted meters have not confirmed. */
  async executeCommand(planId: string): Promise<CommandResult> {
    if (this.sendingCommand) throw new ServiceError('BUSY', 'another group command is still being sent and confirmed: wait for it to finish');
    this.sendingCommand = true;
    try {
      return await this.sendCommand(planId);
    } finally {
      this.sendingCommand = false;
    }
  }

  private async sendCommand(planId: string): Promise<CommandResult> {
    const { id, stored } = this.claimPlan(planId);
    if (stored.operation !== 'command') throw new ServiceError('BAD_INPUT', `plan ${id} is a ${stored.operation}: run it with execute`);
    const { store, actor } = this.options;
    const groupId = this.group.id;
    const startedAt = new Date();
    const { seq, entry, historyId } = store.transaction(() => {
      this.checkCommittedEpoch(this.km.epoch);
      const seq = store.nextCommandSeq(groupId);
      const sealing = { groupId, epoch: this.km.epoch, kg: this.km.groupKey(), signingKey: this.config.signingKey };
      const payload = encodeCommand(this.crypto, sealing, { seq, selector: stored.selector, action: stored.action });
      const entry = { kind: 'broadcast' as const, purpose: 'command' as const, epoch: this.km.epoch, member: null, payload, message: null };
      const historyId = store.addHistory(groupId, { planId: id, operation: 'command', epochFrom: this.km.epoch, epochTo: this.km.epoch, messages: { command: 1 }, bytes: payload.length, actor, startedAt: startedAt.toISOString(), result: 'committed' });
      store.audit(actor, 'execute', { plan: id, operation: 'command', action: stored.action, seq, meters: stored.selector });
      store.consumePlan(id, startedAt);
      return { seq, historyId, entry: { ...entry, id: store.enqueue(groupId, entry) } };
    });
    this.options.afterCommit?.();

    const targets = stored.selector === 'all' ? [...grepSource(this.km).members()] : stored.selector;
    const missing = () => this.commands.missing(seq, targets);
    let resends = 0;
    this.durable.dispatch(entry);
    await this.durable.wait(this.ackTimeout, () => missing().length === 0);
    for (; missing().length > 0 && resends < (this.options.maxRounds ?? 8); resends++) {
      this.durable.sendNew(entry);
      await this.durable.wait(this.ackTimeout, () => missing().length === 0);
    }
    const left = missing();
    store.transaction(() => {
      store.finishHistory(historyId, new Date(), left.length === 0 ? 'confirmed' : `unconfirmed: ${left.join(' ')}`);
      store.audit(actor, 'result', { plan: id, seq, missing: left, resends });
    });
    return { planId: id, seq, action: stored.action, confirmed: targets.filter((meter) => !left.includes(meter)), missing: left, resends };
  }

  /**
   * After open, or once meters given up on are back: waits for the resent transfers' acks and repairs
   * the members the sync table shows behind, by replay from the stored log where it reaches.
   */
  async catchUp(): Promise<ConvergenceResult> {
    const result = await this.convergence.repair();
    this.sync.markUnreachable(result.unreachable);
    return result;
  }

  status(): { readonly group: string; readonly epoch: number; readonly meters: MeterStatus[] } {
    return { group: this.group.name, epoch: this.km.epoch, meters: this.options.store.meterStatuses(this.group.id) };
  }


  /** The plan behind `planId` if it may run now: this group's, not yet run, made at the current epoch. */
  private claimPlan(planId: string): { id: string; stored: StoredPlan; secrets: Uint8Array | undefined } {
    const id = validate(PlanId, planId, 'plan id');
    const record = this.options.store.plan(id);
    if (!record || record.groupId !== this.group.id) throw new ServiceError('UNKNOWN_PLAN', `no plan ${id} for group ${this.group.name}`);
    if (record.consumedAt) throw new ServiceError('PLAN_CONSUMED', `plan ${id} was executed at ${record.consumedAt}`);
    if (record.epoch !== this.km.epoch) throw new ServiceError('STALE_PLAN', `plan ${id} was made at epoch ${record.epoch}; the group is at epoch ${this.km.epoch}: plan again`);
    return { id, stored: record.parameters as StoredPlan, secrets: record.secrets };
  }

  private plan(input: Exclude<OperationInput, { operation: 'commission' }>): OperatorPlan {
    const { plan, stored, secrets } = planOperation(input, this.km);
    return this.savePlan(plan, stored, secrets);
  }

  private savePlan(plan: Omit<OperatorPlan, 'id'>, stored: StoredPlan, secrets: Uint8Array | undefined): OperatorPlan {
    const id = randomUUID();
    this.options.store.transaction(() => {
      this.options.store.savePlan({ id, groupId: this.group.id, operation: plan.operation, parameters: stored, secrets, epoch: plan.epoch, createdAt: new Date().toISOString() });
      this.options.store.audit(this.options.actor, 'plan', { plan: id, ...plan });
    });
    return { id, ...plan };
  }

  private run(stored: RekeyPlan, secrets: Uint8Array | undefined): Executed[] {
    switch (stored.operation) {
      case 'commission': {
        const joiners = stored.meters.map((meter, index) => ({ id: meter.id, nodeKey: secrets!.slice(index * KEY_BYTES, (index + 1) * KEY_BYTES) }));
        if (stored.method === 'reseed') return [this.reseed(joiners)];
        // a batch below half a subgroup runs as one join each (KeyManager.batchJoin)
        return stored.method === 'batch' ? this.km.batchJoin(joiners, this.random) : joiners.map((joiner) => this.km.join(joiner, this.random));
      }
      case 'leave':
        return [this.km.remove(stored.affected, { suspected: false }, this.random)];
      case 'recover':
        return [this.km.remove(stored.affected, { suspected: true, departed: stored.departed ?? [] }, this.random)];
      case 'reseed':
        return [this.reseed([])];
      case 'periodic':
        return [this.km.periodicRekey(this.random)];
      case 'resync':
        return stored.affected.map((member) => this.km.resync(member));
    }
  }

  private reseed(newcomers: readonly { id: number; nodeKey: Uint8Array }[]): Executed {
    const executed = this.km.reseed(newcomers, this.random);
    return { ...executed, messages: [...this.km.reseedMessages()] };
  }

  private commit(planId: string, stored: RekeyPlan, executed: readonly Executed[], epochFrom: number, startedAt: Date) {
    const { store, actor } = this.options;
    const groupId = this.group.id;
    this.checkCommittedEpoch(epochFrom);
    // the DC's copy of KG first: the driver sends it before the operation's messages (Convergence.converge)
    const keyRow = { kind: 'keyUpdate' as const, purpose: 'key' as const, epoch: this.km.epoch, member: null, payload: this.km.groupKey(), message: null };
    const key = { ...keyRow, id: store.enqueue(groupId, keyRow) };
    const logged = executed.flatMap((operation) => operation.messages).map((message): LoggedMessage => {
      const row = { kind: message.to === 'all' ? 'broadcast' as const : 'unicast' as const, purpose: 'rekey' as const, epoch: message.epoch, member: message.to === 'all' ? null : message.to, payload: message.bytes, message: { type: message.type, audience: message.audience } };
      return { ...message, row: store.enqueue(groupId, row) };
    });
    store.saveGroupState(groupId, this.km.epoch, this.km.snapshot());
    if (stored.operation === 'commission') {
      stored.meters.forEach((meter, index) => {
        const place = this.km.placeOf(meter.id)!;
        // one join each has an epoch each; a batch or a re-seed brings every joiner in at its one epoch
        const joinedEpoch = (executed.length === stored.meters.length ? executed[index]! : executed.at(-1)!).epoch;
        store.saveMember(groupId, { meterId: meter.id, serial: meter.serial, model: meter.model, subgroup: place.subgroup, position: place.position, joinedEpoch, removedEpoch: null, status: 'member' });
        store.saveSync(groupId, { meterId: meter.id, ackedEpoch: null, fingerprint: null, lastSeen: null, status: 'lagging' });
      });
    }
    if (stored.operation === 'reseed' || (stored.operation === 'commission' && stored.method === 'reseed')) {
      // every member has a new place: subgroups are refilled in order
      for (const member of store.members(groupId)) {
        const place = this.km.placeOf(member.meterId);
        if (place) store.saveMember(groupId, { ...member, subgroup: place.subgroup, position: place.position });
      }
    }
    if (stored.operation === 'leave' || stored.operation === 'recover') {
      for (const meter of stored.affected) {
        store.markRemoved(groupId, meter, this.km.epoch, stored.operation === 'leave' ? 'left' : 'recovered');
        store.saveSync(groupId, { meterId: meter, ackedEpoch: null, fingerprint: null, lastSeen: null, status: 'removed' });
      }
    }
    const plans: Plan[] = executed.map((operation) => operation.plan);
    const messages = countByKind(plans);
    const bytes = plans.reduce((sum, plan) => sum + plan.bytes, 0);
    const historyId = store.addHistory(groupId, { planId, operation: stored.operation, epochFrom, epochTo: this.km.epoch, messages, bytes, actor, startedAt: startedAt.toISOString(), result: 'committed' });
    store.audit(actor, 'execute', { plan: planId, operation: stored.operation, epochFrom, epochTo: this.km.epoch, meters: stored.affected, messages, bytes });
    store.consumePlan(planId, new Date());
    return { historyId, key, messages: logged };
  }

  /**
   * Belt and braces to the store's writer lock: a Key Manager whose state in memory is not what the
   * store holds was overtaken by another writer, and committing from it would undo that writer's
   * removals. Read inside the committing transaction, so nothing can slip in between.
   */
  private checkCommittedEpoch(epoch: number): void {
    const committed = this.options.store.groupEpoch(this.group.id);
    if (committed !== epoch) {
      throw new ServiceError('STALE_STATE', `group ${this.group.name} is at epoch ${committed} in the store but at ${epoch} in this Key Manager: another process wrote the store; nothing was executed — reopen the store and plan again`);
    }
  }

  private get ackTimeout(): number {
    return this.options.ackTimeout ?? 5;
  }

  private loadKm(): KeyManager {
    return KeyManager.restore(this.config, this.options.store.groupSecrets(this.group.id).state, this.random);
  }

  /**
   * A driver that knows the stored log of the last LOG_EPOCHS epochs and what the sync table says each
   * member last acked: after a restart it repairs by replay, not by resync.
   */
  private newConvergence(): Convergence {
    const stored = this.options.store.storedLog(this.group.id, this.km.epoch - LOG_EPOCHS);
    const fingerprints = new Map([...stored.groupKeys].map(([epoch, kg]) => [epoch, kgFingerprint(this.crypto, kg)] as const));
    const convergence = new Convergence(grepSource(this.km), this.durable, { crypto: this.crypto, ackTimeout: this.ackTimeout, maxRounds: this.options.maxRounds ?? 8, logEpochs: LOG_EPOCHS }, { messages: stored.messages, fingerprints });
    convergence.observe(this.sync.lastReports(this.km));
    return convergence;
  }
}

/** The history's result line for a convergence. */
function outcome(result: ConvergenceResult): string {
  if (result.converged) return 'converged';
  if (result.superseded) return `continued by the operation to epoch ${result.epoch}${result.queuedAtDc.length > 0 ? `; ${result.queuedAtDc.length} meters still queued at the DC` : ''}`;
  return `unreachable: ${result.unreachable.join(' ')}`;
}
