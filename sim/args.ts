import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseFlagPairs } from '../main/cli/flagPairs.js';
import { fileArg } from '../main/files/fileArg.js';
import { type KeyFileType, readKeyFile } from '../main/files/keyFile.js';
import { readPublicKey } from '../main/firmware/keys.js';

/** The committed demo vendor key (resources/firmware/README.md): what simulated meters trust unless told otherwise. */
export const DEMO_VENDOR_KEY_PATH = fileURLToPath(new URL('../resources/firmware/demo-vendor.pub', import.meta.url));
/** the meters' factory firmware sequence unless --running-sequence says otherwise */
export const DEFAULT_RUNNING_SEQUENCE = 1;

/** `npm run sim -- …`: every flag checked before anything starts, with a message that names the flag. */
const hostPort = z
  .string()
  .regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:4059')
  .transform((value) => {
    const [host, port] = value.split(':') as [string, string];
    return { host, port: Number(port) };
  })
  .refine(({ port }) => port <= 65_535, 'port must be at most 65535');

const keyFile = (type: KeyFileType, what: string) => fileArg(z.string({ error: `the ${what} file is required` }), (path) => readKeyFile(path, type));

/** readPublicKey also refuses a small-order point, which would make the meters accept forged firmware. */
const vendorKeyFile = fileArg(z.string(), readPublicKey);

export const SimArgs = z
  .object({
    meters: z.coerce.number().int().min(1).max(100_000).default(200),
    tcp: hostPort.optional(),
    serial: z.string().min(1).optional(),
    baud: z.coerce.number().int().positive().default(115_200),
    'pairing-key': keyFile('pairing', 'pairing key'),
    'km-public-key': keyFile('kmPublic', 'KM public key'),
    group: z.coerce.number().int().min(0).max(0xffffffff).default(1),
    loss: z.coerce.number().min(0).max(0.99).default(0),
    rate: z.coerce.number().positive().default(5_000),
    latency: z.coerce.number().min(0).max(60_000).default(50),
    seed: z.coerce.number().int().min(0).max(0xffffffff).default(1),
    'fleet-out': z.string().min(1).optional(),
    /** every meter this model (a firmware campaign targets one model); default: drawn per meter */
    model: z.string().min(1).max(255).optional(),
    /** the vendor/operator Ed25519 public key (hex file) the meters trust for firmware */
    'vendor-key': vendorKeyFile.prefault(DEMO_VENDOR_KEY_PATH),
    /** more keys every meter trusts beside --vendor-key (repeatable): meters provisioned with an operator's own key */
    'trust-key': z.array(vendorKeyFile).default([]),
    /** the sequence number of the firmware the meters leave the factory with (anti-rollback) */
    'running-sequence': z.coerce.number().int().min(1).max(0xffffffff).default(DEFAULT_RUNNING_SEQUENCE),
  })
  .strict()
  .refine((args) => args.tcp !== undefined || args.serial !== undefined, 'give --tcp host:port and/or --serial <tty>');

export type ParsedSimArgs = z.infer<typeof SimArgs>;
type FirmwareFlag = 'model' | 'vendor-key' | 'trust-key' | 'running-sequence';
/** What startSimulator takes: parsed flags, or a hand-built set (tests, the embedded DC) that may leave the firmware flags to their defaults. */
export type SimArgs = Omit<ParsedSimArgs, FirmwareFlag> & Partial<Pick<ParsedSimArgs, FirmwareFlag>>;

export function parseSimArgs(argv: readonly string[]): ParsedSimArgs {
  return parseFlagPairs(argv, SimArgs, ['trust-key']);
}
