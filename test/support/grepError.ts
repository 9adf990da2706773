import { expect } from 'vitest';
import { GrepError } from '../../main/grep/index.js';

/** The code of the `type` error `action` throws (anything else thrown fails the test), or 'no error'. */
export function errorCodeOf(type: abstract new (...args: never[]) => Error & { readonly code: string }): (action: () => unknown) => string {
  return (action) => {
    try {
      action();
    } catch (error) {
      expect(error).toBeInstanceOf(type);
      return (error as Error & { code: string }).code;
    }
    return 'no error';
  };
}

export const codeOf = errorCodeOf(GrepError);

/** The code and message `promise` is refused with (an API call's typed error); resolving fails the test. */
export async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('expected a refusal');
}
