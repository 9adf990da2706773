import type { CommandRequestInput, CommandResultView, CommissionMeterInput, ConfirmOptions, ExecuteOptions, ExecutionView, GrepEvent, LeaveCostView, Operation, PlanView, RunningOperationView, SuspectView } from '../../preload/api.js';
import type { CommandSelector } from '../grep/index.js';
import type { StoredPlan } from '../ops/operations.js';
import type { KeyManagerService, OperatorPlan } from '../ops/service.js';
import type { GroupRecord, KmStore } from '../store/index.js';
import { meterConfirmation, planConfirmation, requireConfirmation } from './confirmation.js';
import * as view from './views.js';

/** What the actions need of the session: the open service, the store, and its events. */
export interface ActionContext {
  readonly groupName: string;
  /** the service of the connected DC; throws LOCKED or NOT_CONNECTED */
  service(): KeyManagerService;
  /** the unlocked store; throws LOCKED */
  ready(): { readonly store: KmStore; readonly group: GroupRecord };
  epoch(): number;
  emit(event: GrepEvent): void;
  /** history and group views changed: tell the screens to refetch */
  changed(): void;
}

/**
 * plan -> confirm -> execute from the screens. A plan that removes meters or re-seeds the group, a
 * command to every member, and suspecting departed meters must be confirmed by typing what the screen
 * shows; the check is made here, so a page that skips its disabled button (or a script on the
 * console's API) cannot run one by a click.
 */
export class Actions {
  /** this session's plans and what the operator must type to run each */
  private readonly plans = new Map<string, string | undefined>();
  private inFlight = 0;
  /** committed operations still being sent and acknowledged, by plan id, in the order they started */
  private readonly runningNow = new Map<string, RunningOperationView>();

  constructor(private readonly context: ActionContext) {}

  /** an execution is being sent and acknowledged: the link must not be swapped under it */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  async planCommission(meters: readonly CommissionMeterInput[]): Promise<PlanView> {
    return this.planned(await this.context.service().planCommission(meters));
  }

  async planCommissionCsv(csv: string): Promise<PlanView> {
    return this.planned(await this.context.service().planCommissionCsv(csv));
  }

  async planLeave(meters: readonly number[]): Promise<PlanView> {
    return this.planned(this.context.service().planLeave(meters));
  }

  async planRecover(suspected: readonly number[]): Promise<PlanView> {
    return this.planned(this.context.service().planRecover(suspected));
  }

  async planReseed(): Promise<PlanView> {
    return this.planned(this.context.service().planReseed());
  }

  async planResync(meters: readonly number[]): Promise<PlanView> {
    return this.planned(this.context.service().planResync(meters));
  }

  async leaveCost(departed: readonly number[] = []): Promise<LeaveCostView | undefined> {
    const cost = this.context.service().leaveCost(departed);
    return cost === undefined ? undefined : view.leaveCostView(cost);
  }

  /** Sends nothing and commits at once (GREP.md §6): the typed ids are the only step before it. */
  async suspectDeparted(meters: readonly number[], options: ConfirmOptions): Promise<SuspectView> {
    const service = this.context.service();
    requireConfirmation(meterConfirmation(meters), options.confirmation, 'the departed meter ids as listed, separated by single spaces');
    const result = service.suspect(meters);
    // every later removal counts them: the screens refetch what a leave costs
    this.context.changed();
    return view.suspectView(result);
  }

  async planCommand(request: CommandRequestInput): Promise<PlanView> {
    const selector = request.meters === 'all' ? 'all' : [...request.meters];
    return this.planned(this.context.service().planCommand({ action: request.action, meters: selector }), selector);
  }

  async execute(planId: string, options: ExecuteOptions): Promise<ExecutionView> {
    const service = this.context.service();
    this.checkConfirmation(planId, options.confirmation);
    const result = await this.running(planId, () => service.execute(planId, { acceptRejected: options.acceptRejected ?? false }));
    this.plans.delete(planId);
    const outcome = result.converged
      ? `converged at epoch ${result.epoch}`
      : result.superseded
        ? `continued by the operation to epoch ${result.epoch}`
        : `epoch ${result.epoch}; ${result.queuedAtDc.length} still queued at the DC; unreachable: ${result.unreachable.join(' ')}`;
    this.context.emit({ type: 'progress', planId, message: outcome });
    return view.executionView(result);
  }

  async executeCommand(planId: string, options: ConfirmOptions): Promise<CommandResultView> {
    const service = this.context.service();
    this.checkConfirmation(planId, options.confirmation);
    const result = await this.running(planId, () => service.executeCommand(planId));
    this.plans.delete(planId);
    const outcome = result.missing.length === 0 ? `confirmed by ${result.confirmed.length} meters` : `unconfirmed: ${result.missing.join(' ')}`;
    this.context.emit({ type: 'progress', planId, message: outcome });
    return view.commandResultView(result);
  }

  /** What is being sent and acknowledged now, for a page opened or reloaded mid-operation. */
  runningOperations(): RunningOperationView[] {
    return [...this.runningNow.values()];
  }

  /** `selector`: whom a command addresses (the plan's affected list names the members either way). */
  private planned(plan: OperatorPlan, selector?: CommandSelector): PlanView {
    const confirmation = planConfirmation({ operation: plan.operation, affected: plan.affected, selector }, this.context.groupName);
    this.plans.set(plan.id, confirmation);
    return view.planView(plan, confirmation);
  }

  private checkConfirmation(planId: string, typed: string | undefined): void {
    const expected = this.plans.has(planId) ? this.plans.get(planId) : this.storedConfirmation(planId);
    requireConfirmation(expected, typed, 'what the plan shows (the meter ids of a leave, the group name of a recovery, a re-seed or a command to every member)');
  }

  /** A plan made outside this session (grepctl, an earlier run) is confirmed by the same rule; an unknown id goes on to the service, which refuses it. */
  private storedConfirmation(planId: string): string | undefined {
    const record = this.context.ready().store.plan(planId);
    return record === undefined ? undefined : planConfirmation(record.parameters as StoredPlan, this.context.groupName);
  }

  /** Progress lines while the operation is sent and acknowledged, the running-operation record, and the refetch events around it. */
  private async running<T>(planId: string, start: () => Promise<T>): Promise<T> {
    const spentBefore = this.spentAt(planId) !== undefined;
    const work = start();
    this.inFlight++;
    // the service commits before its first send, synchronously: the history row exists by now and the plan is spent (or it refused)
    const committed = spentBefore ? undefined : this.committedOperation(planId);
    this.context.changed();
    this.context.emit({ type: 'progress', planId, message: 'committed; sending through the DC' });
    if (committed !== undefined) this.track(planId, committed, 'committed; sending through the DC');
    const ticker = setInterval(() => {
      const message = this.ackProgress();
      this.context.emit({ type: 'progress', planId, message });
      if (committed !== undefined) this.track(planId, committed, message);
    }, 1000);
    try {
      return await work;
    } finally {
      this.inFlight--;
      clearInterval(ticker);
      if (this.runningNow.delete(planId)) this.context.emit({ type: 'operations', operations: this.runningOperations() });
      this.context.changed();
    }
  }

  private spentAt(planId: string): string | undefined {
    return this.context.ready().store.plan(planId)?.consumedAt ?? undefined;
  }

  /** The plan's operation and start once the service spent it; undefined when the service refused it (the plan is then not spent). */
  private committedOperation(planId: string): { operation: Operation; startedAt: string; epoch: number } | undefined {
    const record = this.context.ready().store.plan(planId);
    if (record?.consumedAt == null) return undefined;
    return { operation: record.operation as Operation, startedAt: record.consumedAt, epoch: this.context.epoch() };
  }

  private track(planId: string, committed: { operation: Operation; startedAt: string; epoch: number }, message: string): void {
    const { members, holding } = this.counts(committed.epoch);
    this.runningNow.set(planId, { planId, ...committed, members, acked: committed.operation === 'command' ? undefined : holding, message });
    this.context.emit({ type: 'operations', operations: this.runningOperations() });
  }

  private counts(epoch: number): { readonly members: number; readonly holding: number } {
    const { store, group } = this.context.ready();
    return store.memberCounts(group.id, epoch);
  }

  private ackProgress(): string {
    const epoch = this.context.epoch();
    const { members, holding } = this.counts(epoch);
    return `${holding} of ${members} members hold epoch ${epoch}`;
  }
}
