import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CliError, ExitCode } from './errors.js';

/*
 * Arguments are checked whole before anything opens the store or the link (bad input never changes
 * state), and every refusal names the flag or the positional it is about.
 */

export type OptionTable = Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>;

export const GLOBAL_OPTIONS = {
  db: { type: 'string' },
  group: { type: 'string' },
  dc: { type: 'string' },
  json: { type: 'boolean' },
  yes: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionTable;

export const GLOBAL_HELP = `global options:
  --db <file>      the store (default: $GREP_DB)
  --group <name>   the group (default: the only one in the store)
  --dc <name>      the DC profile (default: the one the group is bound to, else the only one in the store)
  --json           one JSON document on stdout instead of text
  --yes            confirm the plan without asking
  --timeout <s>    seconds to wait for the DC and for convergence (default 60)`;

/** parseArgs gives every string option as a string, so a type failure can only mean "missing". */
export const text = z.string({ error: 'is required' });

export const integer = (min: number, max: number) =>
  text.regex(/^\d+$/, `must be an integer in ${min}..${max}`).transform(Number).pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const name = text.trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters');

export const meterIds = z
  .array(z.string())
  // "3 7 9" and "3,7,9" both read naturally on a command line
  .transform((list) => list.flatMap((item) => item.split(',')).filter((item) => item !== ''))
  .pipe(z.array(integer(1, 0xffffffff)).min(1, 'give at least one meter id'));

export const GlobalArgs = z.object({
  db: z.string().min(1).optional(),
  group: name.optional(),
  dc: name.optional(),
  json: z.boolean().default(false),
  yes: z.boolean().default(false),
  timeout: integer(1, 3600).default(60),
  help: z.boolean().default(false),
});
export type GlobalArgs = z.infer<typeof GlobalArgs>;

export interface RawArgs {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** `--flag value`, `--flag=value` and positionals, against the options this command knows. */
export function splitArgv(argv: readonly string[], options: OptionTable): RawArgs {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values as RawArgs['values'], positionals };
  } catch (error) {
    // node appends a paragraph about '--' that only confuses here
    throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', (error as Error).message.split('. To specify')[0]!);
  }
}

/** Parses with `schema`; the first issue is reported as `--flag: …` or `<positional>: …`. */
export function check<T>(schema: z.ZodType<T>, raw: unknown, positionals: readonly string[] = []): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = issue.path[0];
  const where = key === undefined ? '' : positionals.includes(String(key)) ? `<${String(key)}>: ` : `--${String(key)}: `;
  throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `${where}${issue.message}`);
}
