import type { KeyManagerService, OperatorPlan } from '../ops/service.js';
import type { GlobalArgs } from './args.js';
import { connect, withKeyManager } from './context.js';
import { ExitCode } from './errors.js';
import { planText } from './report.js';
import type { Outcome } from './spec.js';
import { showAndConfirm } from './terminal.js';

/*
 * plan -> confirm -> execute, the same for every operation: the plan is made and shown before the DC
 * is even contacted, so a refusal (or a dry look without --yes) leaves the DC and the group untouched.
 * The service commits before it sends, so a run cut short by --timeout loses nothing: what the DC had
 * not accepted is resent from the outbox by the next grepctl that opens the group.
 */

export interface Execution<R> {
  /** what the operator is asked to confirm, after the plan */
  readonly question: string;
  run(service: KeyManagerService, plan: OperatorPlan): Promise<R>;
  /** converged, or every targeted meter confirmed */
  succeeded(result: R): boolean;
  text(result: R): string;
}

type Timed<R> = { readonly result: R } | { readonly timedOut: true };

function within<R>(work: Promise<R>, seconds: number): Promise<Timed<R>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Timed<R>>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), seconds * 1000);
  });
  return Promise.race([work.then((result) => ({ result })), deadline]).finally(() => clearTimeout(timer));
}

export function operate<R>(global: GlobalArgs, makePlan: (service: KeyManagerService) => OperatorPlan | Promise<OperatorPlan>, execution: Execution<R>): Promise<Outcome> {
  return withKeyManager(global, async ({ group, profile, link, service }) => {
    const plan = await makePlan(service);
    const refusal = await showAndConfirm(global, planText(plan, group), execution.question);
    if (refusal) return { exitCode: ExitCode.notConfirmed, json: { group, plan, confirmed: false, error: { code: 'NOT_CONFIRMED', message: refusal } }, text: refusal };

    await connect(link, profile, global.timeout);
    const running = execution.run(service, plan);
    const timed = await within(running, global.timeout);
    if ('timedOut' in timed) {
      // the run is abandoned with the process; its late failure, if any, has no one left to tell
      running.catch(() => undefined);
      const message = `no result within --timeout ${global.timeout} s: the operation is committed (history shows it unfinished); the next grepctl run on this group resends what the DC had not accepted`;
      return { exitCode: ExitCode.failed, json: { group, plan, confirmed: true, result: null, timedOut: true, message }, text: message };
    }
    const { result } = timed;
    return { exitCode: execution.succeeded(result) ? ExitCode.ok : ExitCode.failed, json: { group, plan, confirmed: true, result }, text: execution.text(result) };
  });
}
