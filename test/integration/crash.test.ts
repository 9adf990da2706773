import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashRun } from '../support/crashRun.js';

const OPERATIONS = 30;

describe('Key Manager crash safety (GREP.md §11)', () => {
  it(`killed with SIGKILL at random points during ${OPERATIONS} operations, it restarts and every remaining meter converges`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grep-crash-'));
    try {
      const result = await crashRun({ dir, crashes: 8, operations: OPERATIONS, meters: 30, seed: 5 });
      expect(result).toMatchObject({ crashes: 8, operations: OPERATIONS, lost: 0, desynced: 0, pendingOutbox: 0, auditOk: true, historyChained: true });
      expect(result.members).toBeGreaterThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
