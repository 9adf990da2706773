import type { z } from 'zod';
import { check, type GlobalArgs, type OptionTable, type RawArgs } from './args.js';
import { CliError, ExitCode } from './errors.js';

/** One `grepctl` subcommand: its words, its options and their schema, and what it does once they check. */

export interface Outcome {
  /** ok unless said otherwise */
  readonly exitCode?: ExitCode;
  /** the --json document */
  readonly json: Record<string, unknown>;
  /** the same for a person */
  readonly text: string;
}

export interface Subcommand {
  readonly words: readonly string[];
  readonly usage: string;
  readonly summary: string;
  readonly options: OptionTable;
  invoke(raw: RawArgs, global: GlobalArgs): Promise<Outcome>;
}

interface Spec<T> {
  readonly words: readonly string[];
  /** everything after the words, as in `grepctl --help` */
  readonly usage: string;
  readonly summary: string;
  readonly options?: OptionTable;
  /** the positionals' name in the schema; `many` takes all of them as a list */
  readonly positional?: { readonly name: string; readonly many: boolean };
  readonly schema: z.ZodType<T>;
  run(args: T, global: GlobalArgs): Promise<Outcome>;
}

export function subcommand<T>(spec: Spec<T>): Subcommand {
  const options = spec.options ?? {};
  return {
    words: spec.words,
    usage: spec.usage,
    summary: spec.summary,
    options,
    invoke(raw, global) {
      const input: Record<string, unknown> = {};
      for (const key of Object.keys(options)) if (raw.values[key] !== undefined) input[key] = raw.values[key];
      const { positional } = spec;
      const allowed = positional ? (positional.many ? Infinity : 1) : 0;
      if (raw.positionals.length > allowed) throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `unexpected argument ${JSON.stringify(raw.positionals[allowed])}`);
      if (positional) input[positional.name] = positional.many ? raw.positionals : raw.positionals[0];
      return spec.run(check(spec.schema, input, positional ? [positional.name] : []), global);
    },
  };
}
