import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, type Handlers, invoke } from '../../main/api/handlers.js';
import { Backend } from '../../main/app/backend.js';
import type { GrepEvent, RunningOperationView } from '../../preload/api.js';

/*
 * A page reloaded mid-operation asks the back end what is running: the answer must name the operation
 * from the moment it committed until it finished, with what the back end knows of its progress. The
 * header's DC queue comes from the same back end's link view.
 */

const dataDir = mkdtempSync(join(tmpdir(), 'grep-running-'));
let backend: Backend;
let handlers: Handlers;
const events: GrepEvent[] = [];

beforeAll(async () => {
  backend = new Backend({ dataDir, actor: 'running test', simulated: { meters: 30, loss: 0 }, scrypt: { cost: 1024, blockSize: 8, parallelism: 1 }, ackTimeout: 2, failureDelayMs: 20 });
  handlers = createHandlers({ app: { name: 'grep-key-manager', version: '0.0.0-test' }, backend });
  backend.subscribe((event) => events.push(event));
  await handlers.unlock('correct horse battery');
});

afterAll(async () => {
  await backend.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const operationsEvents = () => events.flatMap((event) => (event.type === 'operations' ? [event.operations] : []));

describe('the running operation, for a page opened mid-operation', () => {
  it('is listed from its commit to its end, with its kind, plan, start and acknowledgements', async () => {
    expect(await handlers.runningOperations()).toEqual([]);
    const plan = await handlers.planCommissionCsv((await handlers.simulatedFleetCsv())!);
    const before = Date.now();
    const execution = handlers.execute(plan.id, {});
    const running = await handlers.runningOperations();
    expect(running).toHaveLength(1);
    const [op] = running as [RunningOperationView];
    expect(op).toMatchObject({ planId: plan.id, operation: 'commission', epoch: plan.epoch + 1, members: 30 });
    expect(op.acked).toBeGreaterThanOrEqual(0);
    expect(op.acked).toBeLessThanOrEqual(30);
    expect(Math.abs(Date.parse(op.startedAt) - before)).toBeLessThan(5000);
    expect(operationsEvents()[0]).toEqual([expect.objectContaining({ planId: plan.id, operation: 'commission' })]);

    const result = await execution;
    expect(result.converged).toBe(true);
    expect(await handlers.runningOperations()).toEqual([]);
    // the screens hear that it ended, not only that it started
    expect(operationsEvents().at(-1)).toEqual([]);
  }, 60_000);

  it('lists a command with no acknowledgement count (only the service counts confirmations)', async () => {
    const plan = await handlers.planCommand({ action: 'open', meters: [1, 2] });
    const execution = handlers.executeCommand(plan.id, {});
    expect(await handlers.runningOperations()).toEqual([expect.objectContaining({ planId: plan.id, operation: 'command', acked: undefined })]);
    await execution;
    expect(await handlers.runningOperations()).toEqual([]);
  }, 60_000);

  it('never lists a plan the service refused', async () => {
    const plan = await handlers.planLeave([3]);
    await handlers.execute(plan.id, { confirmation: '3' });
    const seen = operationsEvents().length;
    // spent: the service refuses it, and nothing was running
    const refusal = invoke(handlers, 'execute', [plan.id, { confirmation: '3' }]);
    expect(await handlers.runningOperations()).toEqual([]);
    await expect(refusal).rejects.toMatchObject({ code: 'PLAN_CONSUMED' });
    expect(operationsEvents().length).toBe(seen);
  }, 60_000);
});

describe('what the header shows of the DC', () => {
  it("carries the DC's backlog in the link view: frames waiting and their airtime, for the header", async () => {
    const deadline = Date.now() + 10_000;
    // the embedded DC reports its status every 5 s
    while ((await handlers.linkState()).dc === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const { dc } = await handlers.linkState();
    expect(dc).toMatchObject({ meters: 30, queued: expect.any(Number), queuedSeconds: expect.any(Number) });
    expect(dc!.queuedSeconds).toBeGreaterThanOrEqual(0);
  }, 20_000);
});
