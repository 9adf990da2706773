import { InputFileError } from '../files/readBounded.js';
import { CHECK_CODES, FirmwareError, type FirmwareErrorCode } from '../firmware/errors.js';
import { LinkError } from '../link/errors.js';
import { ServiceError } from '../ops/errors.js';
import { StoreError } from '../store/index.js';

/** The process exit codes scripts branch on; `grepctl --help` lists them. */
export const ExitCode = {
  ok: 0,
  /** the operation was refused or ran but did not converge */
  failed: 1,
  badArguments: 2,
  notConfirmed: 3,
  /** wrong passphrase, corrupt or missing store */
  store: 4,
  dcUnreachable: 5,
  /** a firmware package that cannot be read or fails a staging check */
  badPackage: 6,
  /** another process operates the store (its writer lock is held) */
  storeBusy: 7,
  /** Ctrl-C or a kill while waiting on a campaign, which stays stored */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP = `exit codes:
    0  ok
    1  operation refused, failed, or not converged within --timeout
    2  bad arguments, among them an input file (CSV, package, image, key, backup) that is missing,
       not a regular file (a FIFO, a device, a directory), over the size cap of its kind, or a key file
       of the wrong type (a public key where the secret one is needed)
    3  not confirmed (no --yes and no terminal to ask, or the answer was not "yes")
    4  store error (wrong passphrase, corrupt or missing file)
    5  DC unreachable (no answer, or it refused the pairing key)
    6  firmware package refused: unreadable (corrupt, truncated) or failed a staging check (the message names it)
    7  store busy: another Key Manager process operates it (the message names it: program, pid, host, since);
       status, history, audit verify, fw packages and fw status still work meanwhile
  130  interrupted (Ctrl-C, kill) while waiting on a firmware campaign: it stays stored (grepctl fw status)`;

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: ExitCode,
    /** stable, for the --json document */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The exit code and stable code of any failure; messages of the layers below never carry secrets. */
export function classify(error: unknown): { exitCode: ExitCode; code: string; message: string } {
  if (error instanceof CliError) return { exitCode: error.exitCode, code: error.code, message: error.message };
  // a file named on the command line that is missing, not a regular file, too large or of the wrong type
  if (error instanceof InputFileError) return { exitCode: ExitCode.badArguments, code: error.code, message: error.message };
  if (error instanceof StoreError) {
    // a group name is an argument like any other; everything else is about the file or its passphrase
    const exitCode = error.code === 'UNKNOWN_GROUP' || error.code === 'UNKNOWN_DC' ? ExitCode.badArguments : error.code === 'STORE_BUSY' ? ExitCode.storeBusy : ExitCode.store;
    return { exitCode, code: error.code, message: error.message };
  }
  if (error instanceof FirmwareError) return { exitCode: firmwareExitCode(error.code), code: error.code, message: error.message };
  if (error instanceof ServiceError) return { exitCode: NAMED_WRONG.has(error.code) ? ExitCode.badArguments : ExitCode.failed, code: error.code, message: error.message };
  if (error instanceof Error && error.name === 'SqliteError') return { exitCode: ExitCode.store, code: 'SQLITE', message: error.message };
  if (error instanceof LinkError) return { exitCode: error.code === 'BAD_KEY' || error.code === 'BAD_ARGUMENT' ? ExitCode.failed : ExitCode.dcUnreachable, code: error.code, message: error.message };
  return { exitCode: ExitCode.failed, code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/** Service refusals that mean the command line named something wrong (an id that does not exist, a CSV over the limit). */
const NAMED_WRONG: ReadonlySet<string> = new Set(['BAD_INPUT', 'UNKNOWN_PACKAGE', 'UNKNOWN_CAMPAIGN', 'TOO_LARGE']);

/** A staging check failed: the package itself is refused, whatever the command. */
const PACKAGE_REFUSALS: ReadonlySet<FirmwareErrorCode> = new Set(Object.values(CHECK_CODES));

function firmwareExitCode(code: FirmwareErrorCode): ExitCode {
  if (PACKAGE_REFUSALS.has(code)) return ExitCode.badPackage;
  // a key file or a manifest field given on the command line
  return code === 'BAD_ARGUMENT' ? ExitCode.badArguments : ExitCode.failed;
}
