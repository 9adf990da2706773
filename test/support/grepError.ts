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
