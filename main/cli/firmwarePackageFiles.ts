import { existsSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import { fileArg } from '../files/fileArg.js';
import { type InputFileKind, readInputFile } from '../files/readBounded.js';
import { FirmwareError, type FirmwarePackage, generateSigningKey, pack, parse, readSigningKey, writeSigningKeyFiles } from '../firmware/index.js';
import { equalBytes, toHex } from '../grep/index.js';
import { integer, text } from './args.js';
import { CliError, ExitCode } from './errors.js';
import { described, describedText } from './firmwareReport.js';
import { subcommand } from './spec.js';

/*
 * keygen, pack and inspect work on files alone, with no store and no DC, so a vendor or an operator
 * can make and check packages on a machine that never holds group keys.
 */

/** A package or an image named on the command line, bounded by its kind. */
export const fileBytes = (kind: InputFileKind) => fileArg(text, (path) => new Uint8Array(readInputFile(path, kind)));

const newFile = (what: string) => text.min(1, 'must not be empty').refine((path) => !existsSync(path), `exists already: ${what} is never overwritten`);

const output = { type: 'string', short: 'o' } as const;

export const keygen = subcommand({
  words: ['fw', 'keygen'],
  usage: '-o <base>',
  summary: 'a new firmware signing key pair: <base>.key (secret, owner-only) and <base>.pub (for fw trust); never overwrites',
  options: { output },
  schema: z.object({
    output: text.min(1, 'must not be empty').superRefine((base, context) => {
      for (const path of [`${base}.key`, `${base}.pub`]) if (existsSync(path)) context.addIssue({ code: 'custom', message: `${path} exists already: a signing key is never overwritten` });
    }),
  }),
  async run(args) {
    const pair = generateSigningKey(nodeCrypto, nodeRandom);
    const { secretPath, publicPath } = writeSigningKeyFiles(args.output, pair);
    const publicKey = toHex(pair.publicKey);
    return {
      json: { secretKeyFile: secretPath, publicKeyFile: publicPath, publicKey },
      text: `wrote ${secretPath} (the signing key: owner-only, keep it off the Key Manager) and ${publicPath}\npublic key ${publicKey}\nthe Key Manager trusts it with: grepctl fw trust --key ${publicPath} --label <name>`,
    };
  },
});

export const packCommand = subcommand({
  words: ['fw', 'pack'],
  usage: '--image <bin> --model <m> --version <v> --seq <n> --key <signing key> [--vendor <name>] -o <pkg>',
  summary: 'sign an image into a firmware package; --seq must rise with every release of a model (meters refuse a rollback)',
  options: { image: { type: 'string' }, model: { type: 'string' }, version: { type: 'string' }, seq: { type: 'string' }, key: { type: 'string' }, vendor: { type: 'string' }, output },
  schema: z.object({
    image: fileBytes('firmwareImage'),
    model: text,
    version: text,
    seq: integer(1, 0xffffffff),
    key: fileArg(text, readSigningKey),
    vendor: text.default('operator'),
    output: newFile('a package'),
  }),
  async run(args) {
    const bytes = pack(nodeCrypto, args.image, { vendor: args.vendor, model: args.model, version: args.version, sequence: args.seq }, args.key);
    writeFileSync(args.output, bytes, { flag: 'wx' });
    const info = described(args.output, bytes, parse(bytes));
    const signer = toHex(nodeCrypto.publicKey(args.key));
    return { json: { ...info, signer }, text: `wrote ${describedText(info)}\n  signed by ${signer}` };
  },
});

export const inspect = subcommand({
  words: ['fw', 'inspect'],
  usage: '<pkg>',
  summary: 'show a package file: manifest, sizes, digests (no store, no trust); exit 6 if it is unreadable or its image does not match the manifest',
  positional: { name: 'file', many: false },
  schema: z.object({ file: text }),
  async run({ file }) {
    const bytes = new Uint8Array(readInputFile(file, 'firmwarePackage'));
    let pkg: FirmwarePackage;
    try {
      pkg = parse(bytes);
    } catch (error) {
      if (!(error instanceof FirmwareError)) throw error;
      throw new CliError(ExitCode.badPackage, error.code, `${file} is not a readable firmware package: ${error.message}`);
    }
    const info = described(file, bytes, pkg);
    const problems = [
      ...(pkg.manifest.size === pkg.image.length ? [] : [`the manifest says ${pkg.manifest.size} B, the image has ${pkg.image.length} B`]),
      ...(equalBytes(nodeCrypto.sha256(pkg.image), pkg.manifest.digest) ? [] : ['the image SHA-256 differs from the manifest']),
    ];
    const verdict = problems.length === 0 ? '  image matches the manifest (size, SHA-256); the signature is checked by fw stage' : `  CORRUPT: ${problems.join('; ')}`;
    return { exitCode: problems.length === 0 ? ExitCode.ok : ExitCode.badPackage, json: { ...info, intact: problems.length === 0, problems }, text: `${describedText(info)}\n${verdict}` };
  },
});
