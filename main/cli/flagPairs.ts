import type { z } from 'zod';

/**
 * `--flag value` pairs checked whole by a zod schema, for the long-running processes (`npm run sim`,
 * `npm run console`): every problem is reported at once, each naming its flag, so an operator fixes a
 * command line in one go. (grepctl has subcommands and boolean flags: main/cli/args.ts.)
 */
export function parseFlagPairs<T>(argv: readonly string[], schema: z.ZodType<T>, repeatable: readonly string[] = []): T {
  // a repeatable flag is a list for the schema even when given once or not at all
  const raw: Record<string, string | string[]> = Object.fromEntries(repeatable.map((flag) => [flag, []]));
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index]!;
    if (!flag.startsWith('--')) throw new Error(`unexpected argument ${flag}`);
    const value = argv[index + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
    const name = flag.slice(2);
    const list = raw[name];
    if (repeatable.includes(name) && Array.isArray(list)) list.push(value);
    else raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => `--${key}: unknown flag`)
      : // the flag alone: an index into a repeated flag's list means nothing on the command line, the message names the file
        [`${issue.path.length ? `--${String(issue.path[0])}: ` : ''}${issue.message}`],
  );
  throw new Error(lines.join('\n'));
}
