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
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP = `exit codes:
  0  ok
  1  operation refused, failed, or not converged within --timeout
  2  bad arguments
  3  not confirmed (no --yes and no terminal to ask, or the answer was not "yes")
  4  store error (wrong passphrase, corrupt or missing file)
  5  DC unreachable (no answer, or it refused the pairing key)`;

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
  if (error instanceof StoreError) {
    // a group name is an argument like any other; everything else is about the file or its passphrase
    return { exitCode: error.code === 'UNKNOWN_GROUP' ? ExitCode.badArguments : ExitCode.store, code: error.code, message: error.message };
  }
  if (error instanceof ServiceError) return { exitCode: error.code === 'BAD_INPUT' ? ExitCode.badArguments : ExitCode.failed, code: error.code, message: error.message };
  if (error instanceof Error && error.name === 'SqliteError') return { exitCode: ExitCode.store, code: 'SQLITE', message: error.message };
  if (error instanceof LinkError) return { exitCode: error.code === 'BAD_KEY' || error.code === 'BAD_ARGUMENT' ? ExitCode.failed : ExitCode.dcUnreachable, code: error.code, message: error.message };
  return { exitCode: ExitCode.failed, code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
