/** Argument parsing and table output shared by the benchmarks: JSON for scripts, a table for people. */
export interface BenchArgs {
  readonly json: boolean;
  readonly quick: boolean;
  readonly sizes: readonly number[];
}

export function parseBenchArgs(argv: readonly string[], defaults: { sizes: readonly number[]; quickMax: number }): BenchArgs {
  let json = false;
  let quick = false;
  let sizes: readonly number[] | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--json') json = true;
    else if (arg === '--quick') quick = true;
    else if (arg === '--sizes') {
      const list = argv[++index];
      sizes = list?.split(',').map(Number);
      if (!sizes || sizes.some((n) => !Number.isInteger(n) || n < 2)) usage(`--sizes takes a comma-separated list of group sizes >= 2`);
    } else usage(`unknown argument ${arg}`);
  }
  const chosen = sizes ?? defaults.sizes;
  return { json, quick, sizes: quick ? chosen.filter((n) => n <= defaults.quickMax) : chosen };
}

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: [--quick] [--json] [--sizes n1,n2,...]\n`);
  process.exit(2);
}

export function printTable<Row extends object>(rows: readonly Row[], columns: readonly (keyof Row & string)[]): void {
  const cells = rows.map((row) => columns.map((column) => String(row[column])));
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => line[index]!.length)));
  const line = (values: readonly string[]) => values.map((value, index) => value.padStart(widths[index]!)).join('  ');
  process.stdout.write(`${line(columns)}\n${cells.map(line).join('\n')}\n`);
}
