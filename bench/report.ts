/** Argument parsing and table output shared by the benchmarks: JSON for scripts, a table for people. */
export interface BenchArgs<Flag extends string = never> {
  readonly json: boolean;
  readonly quick: boolean;
  readonly sizes: readonly number[];
  /** the benchmark's own numeric flags (`--name value`), defaults filled in */
  readonly flags: Readonly<Record<Flag, number>>;
  /** the benchmark's own on/off switches (`--name`) that were given */
  readonly switches: ReadonlySet<string>;
}

/** A benchmark-specific `--name value` flag: its default and the range it accepts. */
export interface NumericFlag {
  readonly value: number;
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
}

export function parseBenchArgs<Flag extends string = never>(
  argv: readonly string[],
  /** without `sizes` the benchmark takes neither --sizes nor --quick */
  defaults: { sizes?: readonly number[]; quickMax?: number; flags?: Readonly<Record<Flag, NumericFlag>>; switches?: readonly string[] },
): BenchArgs<Flag> {
  const sized = defaults.sizes !== undefined;
  const specs: Readonly<Record<string, NumericFlag>> = defaults.flags ?? {};
  const flags: Record<string, number> = Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, spec.value]));
  const usage = (problem: string): never => {
    const own = [...Object.keys(specs).map((name) => ` [--${name} n]`), ...(defaults.switches ?? []).map((name) => ` [--${name}]`)].join('');
    process.stderr.write(`${problem}\nusage: [--json]${sized ? ' [--quick] [--sizes n1,n2,...]' : ''}${own}\n`);
    process.exit(2);
  };
  let json = false;
  let quick = false;
  const switches = new Set<string>();
  let sizes: readonly number[] | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const name = arg.slice(2);
    if (arg === '--json') json = true;
    else if (arg.startsWith('--') && defaults.switches?.includes(name)) switches.add(name);
    else if (sized && arg === '--quick') quick = true;
    else if (sized && arg === '--sizes') {
      const list = argv[++index];
      sizes = list?.split(',').map(Number);
      if (!sizes || sizes.some((n) => !Number.isInteger(n) || n < 2)) usage(`--sizes takes a comma-separated list of group sizes >= 2`);
    } else if (arg.startsWith('--') && Object.hasOwn(specs, name)) {
      const spec = specs[name]!;
      const value = Number(argv[++index]);
      if (!(value >= spec.min && value <= spec.max) || (spec.integer && !Number.isInteger(value))) {
        usage(`--${name} takes ${spec.integer ? 'an integer' : 'a number'} in ${spec.min}..${spec.max}`);
      }
      flags[name] = value;
    } else usage(`unknown argument ${arg}`);
  }
  const chosen = sizes ?? defaults.sizes ?? [];
  const quickMax = defaults.quickMax ?? Number.POSITIVE_INFINITY;
  return { json, quick, sizes: quick ? chosen.filter((n) => n <= quickMax) : chosen, flags: flags as Record<Flag, number>, switches };
}

export function printTable<Row extends object>(rows: readonly Row[], columns: readonly (keyof Row & string)[]): void {
  const cells = rows.map((row) => columns.map((column) => String(row[column])));
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => line[index]!.length)));
  const line = (values: readonly string[]) => values.map((value, index) => value.padStart(widths[index]!)).join('  ');
  process.stdout.write(`${line(columns)}\n${cells.map(line).join('\n')}\n`);
}
