import type { CommandRequestInput, CommandResultView, CommissionMeterInput, ExecuteOptions, ExecutionView, GrepEvent, PlanView } from '../../preload/api.js';
import type { KeyManagerService, OperatorPlan } from '../ops/service.js';
import type { GroupRecord, KmStore } from '../store/index.js';
import { AppError } from './errors.js';
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
 * plan -> confirm -> execute from the screens. A plan that removes meters must be confirmed by typing
 * what PlanView.confirmation shows; the check is made here, so a page that skips its disabled button
 * (or a script on the console's API) cannot run a leave or a recovery by a click.
 */
export class Actions {
  /** this session's plans and what the operator must type to run each */
  private readonly plans = new Map<string, string | undefined>();
  private inFlight = 0;

  constructor(private readonly context: ActionContext) {}

  /** an execution is being sent and acknowledged: the link must not be swapped under it */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  async planCommission(meters: readonly CommissionMeterInput[]): Promise<PlanView> {
    return this.planned(this.context.service().planCommission(meters));
  }

  async planCommissionCsv(csv: string): Promise<PlanView> {
    return this.planned(this.context.service().planCommissionCsv(csv));
  }

  async planLeave(meters: readonly number[]): Promise<PlanView> {
    return this.planned(this.context.service().planLeave(meters));
  }

  async planRecover(suspected: readonly number[]): Promise<PlanView> {
    return this.planned(this.context.service().planRecover(suspected));
  }

  async planCommand(request: CommandRequestInput): Promise<PlanView> {
    return this.planned(this.context.service().planCommand({ action: request.action, meters: request.meters === 'all' ? 'all' : [...request.meters] }));
  }

  async execute(planId: string, options: ExecuteOptions): Promise<ExecutionView> {
    const service = this.context.service();
    this.checkConfirmation(planId, options.confirmation);
    const result = await this.running(planId, () => service.execute(planId, { acceptRejected: options.acceptRejected ?? false }));
    this.plans.delete(planId);
    const outcome = result.converged ? `converged at epoch ${result.epoch}` : `epoch ${result.epoch}; unreachable: ${result.unreachable.join(' ')}`;
    this.context.emit({ type: 'progress', planId, message: outcome });
    return view.executionView(result);
  }

  async executeCommand(planId: string): Promise<CommandResultView> {
    const service = this.context.service();
    const result = await this.running(planId, () => service.executeCommand(planId));
    this.plans.delete(planId);
    const outcome = result.missing.length === 0 ? `confirmed by ${result.confirmed.length} meters` : `unconfirmed: ${result.missing.join(' ')}`;
    this.context.emit({ type: 'progress', planId, message: outcome });
    return view.commandResultView(result);
  }

  private planned(plan: OperatorPlan): PlanView {
    const shown = view.planView(plan, this.context.groupName);
    this.plans.set(plan.id, shown.confirmation);
    return shown;
  }

  private checkConfirmation(planId: string, typed: string | undefined): void {
    const expected = this.plans.has(planId) ? this.plans.get(planId) : this.storedConfirmation(planId);
    if (expected !== undefined && typed !== expected) {
      throw new AppError('CONFIRMATION', 'the confirmation does not match: type exactly what the plan shows (the meter ids of a leave, the group name of a recovery)');
    }
  }

  /** A plan made outside this session (grepctl, an earlier run) is confirmed by the same rule; an unknown id goes on to the service, which refuses it. */
  private storedConfirmation(planId: string): string | undefined {
    const record = this.context.ready().store.plan(planId);
    if (!record) return undefined;
    const stored = record.parameters as { readonly operation: string; readonly affected: readonly number[] };
    return view.confirmationOf(stored.operation, stored.affected, this.context.groupName);
  }

  /** Progress lines while the operation is sent and acknowledged, and the refetch events around it. */
  private async running<T>(planId: string, start: () => Promise<T>): Promise<T> {
    const work = start();
    this.inFlight++;
    // the service commits before its first send, synchronously: the history row exists by now (or it refused)
    this.context.changed();
    this.context.emit({ type: 'progress', planId, message: 'committed; sending through the DC' });
    const ticker = setInterval(() => this.context.emit({ type: 'progress', planId, message: this.ackProgress() }), 1000);
    try {
      return await work;
    } finally {
      this.inFlight--;
      clearInterval(ticker);
      this.context.changed();
    }
  }

  private ackProgress(): string {
    const { store, group } = this.context.ready();
    const epoch = this.context.epoch();
    const { members, holding } = store.memberCounts(group.id, epoch);
    return `${holding} of ${members} members hold epoch ${epoch}`;
  }
}
