import type { z } from 'zod';

/**
 * `--flag value` pairs checked whole by a zod schema, for the long-running processes (`npm run sim`,
 * `npm run console`): every problem is reported at once, each naming its flag, so an operator fixes a
 * command line in one go. (grepctl has subcommands and boolean flags: main/cli/args.ts.)
 */
export function parseFlagPairs<T>(argv: readonly string[], schema: z.ZodType<T>): T {
  const raw: Record<string, string> = {};
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index]!;
    if (!flag.startsWith('--')) throw new Error(`unexpected argument ${flag}`);
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
    raw[flag.slice(2)] = value;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `--${key}: unknown flag`)
      : [`${issue.path.length ? `--${issue.path.join('.')}: ` : ''}${issue.message}`],
  );
  throw new Error(lines.join('\n'));
}
