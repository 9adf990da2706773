import { z } from 'zod';
import type { DcProfileSpec } from '../app/backend.js';
import { parseFlagPairs } from '../cli/flagPairs.js';
import { fileArg } from '../files/fileArg.js';
import { readKeyFile } from '../files/keyFile.js';
import { readInputFile } from '../files/readBounded.js';
import { DEFAULT_BAUD_RATE } from '../link/transport.js';

/** The console's flags, checked whole before anything starts; every refusal names its flag. */

const dcAddress = z.string().transform((value, context) => {
  const tcp = /^tcp:([^:\s]+):(\d{1,5})$/.exec(value);
  if (tcp && Number(tcp[2]) >= 1 && Number(tcp[2]) <= 65_535) return { transport: 'tcp' as const, host: tcp[1]!, port: Number(tcp[2]) };
  const serial = /^serial:(\/\S+)$/.exec(value);
  if (serial) return { transport: 'serial' as const, path: serial[1]! };
  context.addIssue({ code: 'custom', message: 'expected tcp:host:port (port 1..65535) or serial:/dev/ttyX' });
  return z.NEVER;
});

// one trailing line break is the editor's, not the passphrase's
const passphraseFile = fileArg(z.string(), (path) => readInputFile(path, 'passphrase').toString('utf8').replace(/\r?\n$/, ''));

const Flags = z
  .object({
    port: z.coerce.number().int().min(0).max(65_535).default(0),
    data: z.string().min(1).optional(),
    dc: dcAddress.optional(),
    baud: z.coerce.number().int().min(50).max(4_000_000).optional(),
    'pairing-key': fileArg(z.string(), (path) => readKeyFile(path, 'pairing')).optional(),
    meters: z.coerce.number().int().min(1).max(100_000).optional(),
    loss: z.coerce.number().min(0).max(0.99).optional(),
    'passphrase-file': passphraseFile.optional(),
  })
  .strict()
  .superRefine((flags, context) => {
    const issue = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (flags.dc && !flags['pairing-key']) issue('pairing-key', 'is required with --dc');
    if (!flags.dc && flags['pairing-key']) issue('pairing-key', 'is for --dc only');
    if (flags.baud !== undefined && flags.dc?.transport !== 'serial') issue('baud', 'is for --dc serial:… only');
    if (flags.dc && (flags.meters !== undefined || flags.loss !== undefined)) issue('meters', '--meters and --loss configure the embedded simulator, not a real DC');
  });

export interface ConsoleArgs {
  readonly port: number;
  readonly data: string | undefined;
  readonly dc: DcProfileSpec | undefined;
  readonly meters: number | undefined;
  readonly loss: number | undefined;
  readonly passphrase: string | undefined;
}

export function parseConsoleArgs(argv: readonly string[]): ConsoleArgs {
  const flags = parseFlagPairs(argv, Flags);
  const pairingKey = flags['pairing-key'];
  const dc: DcProfileSpec | undefined =
    flags.dc === undefined || pairingKey === undefined
      ? undefined
      : flags.dc.transport === 'tcp'
        ? { ...flags.dc, pairingKey }
        : { ...flags.dc, baud: flags.baud ?? DEFAULT_BAUD_RATE, pairingKey };
  return { port: flags.port, data: flags.data, dc, meters: flags.meters, loss: flags.loss, passphrase: flags['passphrase-file'] };
}
