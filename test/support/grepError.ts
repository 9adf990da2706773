import { expect } from 'vitest';
import { GrepError } from '../../main/grep/index.js';

/** The code of the GrepError `action` throws (anything else thrown fails the test), or 'no error'. */
export const codeOf = (action: () => unknown): string => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(GrepError);
    return (error as GrepError).code;
  }
  return 'no error';
};
