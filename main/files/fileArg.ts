import { z } from 'zod';
import { InputFileError } from './readBounded.js';

/**
 * A command-line argument that names a file, checked by reading it with `read` (readInputFile or a
 * key file reader) while the arguments are checked, so a bad file is refused before anything opens
 * the store or the link. The refusal names the file, never its content; `path` words a missing flag.
 */
export const fileArg = <T>(path: z.ZodString, read: (path: string) => T) =>
  path.transform((value, context) => {
    try {
      return read(value);
    } catch (error) {
      if (!(error instanceof InputFileError)) throw error;
      context.addIssue({ code: 'custom', message: error.message });
      return z.NEVER;
    }
  });
