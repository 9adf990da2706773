import { z } from 'zod';
import { fileArg } from '../files/fileArg.js';
import { readInputFile } from '../files/readBounded.js';
import { checkCommissioningCsv, CommissionInput } from '../ops/planning.js';
import type { ExecutionResult, KeyManagerService, OperatorPlan } from '../ops/service.js';
import { integer, meterIds, text } from './args.js';
import { escapeControl } from '../text/escape.js';
import { withKeyManager } from './context.js';
import { ExitCode } from './errors.js';
import { type Execution, operate } from './execute.js';
import { resultText, suspectText } from './report.js';
import { showAndConfirm } from './terminal.js';
import { type Subcommand, subcommand } from './spec.js';

/** The operations that change or repair the group's keys: each one converges or names who did not ack. */

const rekeying = (question: string): Execution<ExecutionResult> => ({
  question,
  // the operator confirmed the plan that listed the rejected CSV lines
  run: (service, plan) => service.execute(plan.id, { acceptRejected: true }),
  succeeded: (result) => result.converged,
  text: resultText,
});

const csvFile = fileArg(text, (path) => readInputFile(path, 'csv').toString('utf8'));

const commission = subcommand({
  words: ['commission'],
  usage: '<meterId> --node-key <hex> [--serial s --model m] | --csv <file>',
  summary: 'join one meter, or every valid line of a CSV (id,serial,model,nodeKey); bad lines are listed in the plan',
  options: { 'node-key': { type: 'string' }, serial: { type: 'string' }, model: { type: 'string' }, csv: { type: 'string' } },
  positional: { name: 'meterId', many: false },
  schema: z
    .object({
      meterId: integer(1, 0xffffffff).optional(),
      'node-key': CommissionInput.shape.nodeKey.optional(),
      serial: CommissionInput.shape.serial.optional(),
      model: CommissionInput.shape.model.optional(),
      csv: csvFile.optional(),
    })
    .superRefine((args, context) => {
      const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
      if ((args.meterId === undefined) === (args.csv === undefined)) issue('csv', 'give either <meterId> --node-key <hex> or --csv <file>');
      else if (args.meterId !== undefined && args['node-key'] === undefined) issue('node-key', 'is required with <meterId>');
      else if (args.csv !== undefined && (args['node-key'] ?? args.serial ?? args.model) !== undefined) issue('csv', 'takes node keys, serials and models from the file only');
    }),
  run: async (args, global) => {
    // refused before the store is opened; readInputFile has already refused a file over the byte limit
    if (args.csv !== undefined) checkCommissioningCsv(args.csv);
    return operate(
      global,
      (service) =>
        args.csv !== undefined
          ? service.planCommissionCsv(args.csv)
          : service.planCommission([{ id: args.meterId!, nodeKey: args['node-key']!, serial: args.serial ?? `meter-${args.meterId}`, model: args.model ?? 'unspecified' }]),
      rekeying('Commissioning gives the new meters the group key.'),
    );
  },
});

/** leave, recover and resync: one operation over the listed members */
const onMeters = (word: string, summary: string, question: string, plan: (service: KeyManagerService, ids: number[]) => OperatorPlan): Subcommand =>
  subcommand({
    words: [word],
    usage: '<ids…>',
    summary,
    positional: { name: 'ids', many: true },
    schema: z.object({ ids: meterIds }),
    run: (args, global) => operate(global, (service) => plan(service, args.ids), rekeying(question)),
  });

const leave = onMeters('leave', 'remove meters that left (decommissioned, replaced): they lose the group key', 'The meters lose the group key for good.', (service, ids) => service.planLeave(ids));

const recover = onMeters(
  'recover',
  'collusion recovery: remove suspected meters and keep them in the suspicion record (GREP.md §6)',
  'The meters lose the group key and stay in the suspicion record until a re-seed.',
  (service, ids) => service.planRecover(ids),
);

const rekey = subcommand({
  words: ['rekey'],
  usage: '',
  summary: 'periodic rekey: a fresh group key for every member, one broadcast',
  schema: z.object({}),
  run: (_, global) => operate(global, (service) => service.planPeriodicRekey(), rekeying('Every member gets a fresh group key.')),
});

const resync = onMeters('resync', 'send meters their whole current state by unicast under their node keys', 'The meters get their whole state again.', (service, ids) => service.planResync(ids));

const reseed = subcommand({
  words: ['reseed'],
  usage: '',
  summary: 're-seed (GREP.md §7): fresh keys for every member by one roster and one short SEED each; empties the suspicion record, so a leave is 2 broadcasts again',
  schema: z.object({}),
  run: (_, global) => operate(global, (service) => service.planReseed(), rekeying('Every member gets fresh keys and the suspicion record is emptied.')),
});

const suspect = subcommand({
  words: ['suspect'],
  usage: '<ids…>',
  summary: 'put meters that left by a plain leave and were found compromised later into the suspicion record (no message); shows what a leave costs then',
  positional: { name: 'ids', many: true },
  schema: z.object({ ids: meterIds }),
  run: (args, global) =>
    withKeyManager(global, async ({ group, service }) => {
      const cost = service.leaveCost(args.ids);
      const refusal = await showAndConfirm(global, suspectText(group, args.ids, cost), 'Every later removal counts them until a re-seed.');
      if (refusal) return { exitCode: ExitCode.notConfirmed, json: { group, meters: args.ids, cost, confirmed: false, error: { code: 'NOT_CONFIRMED', message: refusal } }, text: refusal };
      const result = service.suspect(args.ids);
      return { json: { group, ...result, cost, confirmed: true }, text: `meters ${result.suspected.join(' ')} are in the suspicion record of group ${escapeControl(group)} (${result.record} entries): plan a re-seed (grepctl reseed) to empty it` };
    }),
});

export const operationCommands: readonly Subcommand[] = [commission, leave, recover, rekey, resync, reseed, suspect];
