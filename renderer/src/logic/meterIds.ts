/** Meter ids typed by an operator: separated by commas, semicolons or white space. */
export const MAX_METER_ID = 0xffff_ffff;

export interface ParsedMeterIds {
  /** valid ids in the order typed, duplicates dropped */
  readonly ids: readonly number[];
  /** one line per problem; the list is usable only when this is empty */
  readonly problems: readonly string[];
}

/** `known`: the ids that may be named, once loaded; `unknown` says why another id may not. */
export function parseMeterIds(text: string, known?: ReadonlySet<number>, unknown = 'is not a member of the group'): ParsedMeterIds {
  const ids: number[] = [];
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const token of text.split(/[\s,;]+/)) {
    if (token === '') continue;
    if (!/^\d+$/.test(token)) {
      problems.push(`"${token.slice(0, 24)}" is not a meter id (digits only)`);
      continue;
    }
    const id = Number(token);
    if (!Number.isSafeInteger(id) || id > MAX_METER_ID) {
      problems.push(`${token.slice(0, 24)} is out of range (0…${MAX_METER_ID})`);
      continue;
    }
    if (seen.has(id)) {
      problems.push(`${id} is listed twice`);
      continue;
    }
    if (known !== undefined && !known.has(id)) {
      problems.push(`${id} ${unknown}`);
      continue;
    }
    seen.add(id);
    ids.push(id);
  }
  return { ids, problems };
}
