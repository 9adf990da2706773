import { z } from 'zod';
import type { DisconnectorAction } from '../grep/index.js';
import type { CommandResult } from '../ops/service.js';
import { meterIds, text } from './args.js';
import { type Execution, operate } from './execute.js';
import { type Subcommand, subcommand } from './spec.js';

/*
 * Group commands (GREP.md §10): open or close the disconnector of every member or of listed meters.
 * `--meters 3 4 5` reads naturally, so the ids after the first are taken from the positionals.
 */

const WHAT: Record<DisconnectorAction, string> = {
  open: 'open: their supply is cut',
  close: 'close: their supply is restored',
};

const execution = (action: DisconnectorAction, meters: 'all' | readonly number[]): Execution<CommandResult> => ({
  question: `The disconnectors of ${meters === 'all' ? 'every member' : `${meters.length} meters`} ${WHAT[action]}.`,
  run: (service, plan) => service.executeCommand(plan.id),
  succeeded: (result) => result.missing.length === 0,
  text: (result) =>
    `command ${result.seq} (${result.action}): ${result.confirmed.length} meters confirmed` +
    `${result.missing.length > 0 ? `, NOT confirmed by ${result.missing.join(' ')}` : ''}; sent again ${result.resends} times`,
});

const groupCommand = (action: DisconnectorAction): Subcommand =>
  subcommand({
    words: ['command', action],
    usage: '--all | --meters <ids…>',
    summary: `${action} the disconnector of every member or of the listed meters; exit 1 unless every one confirms`,
    options: { all: { type: 'boolean' }, meters: { type: 'string' } },
    positional: { name: 'ids', many: true },
    schema: z
      .object({ all: z.boolean().optional(), meters: text.optional(), ids: z.array(z.string()) })
      .superRefine((args, context) => {
        if (Boolean(args.all) === (args.meters !== undefined)) context.addIssue({ code: 'custom', path: ['all'], message: 'give either --all or --meters <ids…>' });
        else if (args.all && args.ids.length > 0) context.addIssue({ code: 'custom', path: ['all'], message: `takes no meter ids (got ${args.ids.join(' ')})` });
      })
      .transform((args, context): 'all' | number[] => {
        if (args.all) return 'all';
        const ids = meterIds.safeParse([args.meters!, ...args.ids]);
        if (ids.success) return ids.data;
        context.addIssue({ code: 'custom', path: ['meters'], message: ids.error.issues[0]!.message });
        return z.NEVER;
      }),
    run: (meters, global) => operate(global, (service) => service.planCommand({ action, meters }), execution(action, meters)),
  });

export const groupCommands: readonly Subcommand[] = [groupCommand('open'), groupCommand('close')];
