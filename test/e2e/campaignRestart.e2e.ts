import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeRandom } from '../../main/crypto/node.js';
import { keyFileText } from '../../main/files/keyFile.js';
import { readPublicKey } from '../../main/firmware/keys.js';
import { fromHex, toHex } from '../../main/grep/index.js';
import { METER_MODELS } from '../../sim/fleet.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { launch, recordPage, ROOT, screenshot, waitFor } from './browser.js';
import { type RunningConsoleProcess, startConsoleProcess } from './consoleProcess.js';

/**
 * A firmware campaign across a DC reboot (issue 15), in chromium through the console: the console runs
 * against a simulated DC in this process, which reboots (the link drops, the meters keep their state)
 * just as the operator presses Activate. The campaign says why it waits, keeps Pause and Cancel
 * available, and completes by itself once the DC is back. Every wait is bounded.
 */
const PASSPHRASE = 'e2e passphrase of the store';
const METERS = 20;
const MODEL = METER_MODELS[0];
let dir: string;
let sim: RunningSimulator | undefined;
let consoleProcess: RunningConsoleProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let log: string[] = [];

const id = (testId: string) => page.getByTestId(testId);
const text = async (testId: string) => ((await id(testId).count()) > 0 ? ((await id(testId).first().textContent()) ?? '') : '');

async function apiCall<T>(call: string, args: unknown[]): Promise<T> {
  const url = new URL(consoleProcess!.url);
  const token = new URLSearchParams(url.hash.slice(1)).get('token')!;
  const response = await fetch(new URL(`/api/${call}`, url), { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ args }) });
  const answer = (await response.json()) as { ok: true; value: T } | { ok: false; error: { message: string } };
  if (!answer.ok) throw new Error(`${call}: ${answer.error.message}`);
  return answer.value;
}

/** A free TCP port on the loopback interface: the DC listens there only once the console knows the group's key. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function step(name: string, body: () => Promise<void>, timeout = 120_000) {
  test(name, async () => {
    try {
      await body();
    } catch (error) {
      await screenshot(page, `failed-restart-${name.replace(/\W+/g, '-')}`).catch(() => undefined);
      throw new Error(`${(error as Error).message}\npage log (last 20):\n${log.slice(-20).join('\n')}\nconsole output:\n${consoleProcess?.output().slice(-2000)}`);
    }
  }, timeout);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grep-e2e-restart-'));
  const pairingKey = nodeRandom(32);
  writeFileSync(join(dir, 'pairing.key'), keyFileText('pairing', pairingKey));
  writeFileSync(join(dir, 'passphrase'), `${PASSPHRASE}\n`);
  const port = await freePort();
  consoleProcess = await startConsoleProcess(['--data', join(dir, 'data'), '--port', '0', '--passphrase-file', join(dir, 'passphrase'), '--dc', `tcp:127.0.0.1:${port}`, '--pairing-key', join(dir, 'pairing.key')]);
  const session = await apiCall<{ group: { id: number; kmPublicKey: string } }>('session', []);
  sim = await startSimulator({
    meters: METERS, loss: 0, seed: 5, tcp: { host: '127.0.0.1', port }, baud: 115_200, 'pairing-key': pairingKey, 'km-public-key': fromHex(session.group.kmPublicKey),
    group: session.group.id, rate: 100_000, latency: 5, model: MODEL,
  });
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  log = recordPage(page);
  await page.goto(consoleProcess.url);
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await consoleProcess?.stop();
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a firmware campaign across a DC reboot', () => {
  step('the meters are commissioned and a signed package staged (as a script would)', async () => {
    await waitFor('link connected', () => text('header-link'), (t) => /connected/.test(t) && !/disconnected|reconnecting/.test(t), 60_000);
    const plan = await apiCall<{ id: string; confirmation: string | undefined }>('planCommissionCsv', [sim!.fleet.toCsv()]);
    await apiCall('execute', [plan.id, { confirmation: plan.confirmation ?? '' }]);
    await apiCall('trustKey', ['demo vendor', toHex(readPublicKey(join(ROOT, 'resources/firmware/demo-vendor.pub')))]);
    const image = join(dir, 'image.bin');
    writeFileSync(image, nodeRandom(8 * 1024));
    const pkg = join(dir, 'firmware.pkg');
    execFileSync(process.execPath, ['--import', 'tsx', 'main/cli/main.ts', 'fw', 'pack', '--image', image, '--model', MODEL, '--version', '2.0.0', '--seq', '2', '--key', 'resources/firmware/demo-vendor.key', '--vendor', 'Demo', '-o', pkg], { cwd: ROOT, timeout: 60_000 });
    const staged = await apiCall<{ staged: { id: number } | undefined }>('stageFirmware', [readFileSync(pkg).toString('base64')]);
    expect(staged.staged).toBeDefined();
  });

  step('push: every meter verifies, blocks on air and acknowledged', async () => {
    await id('nav-firmware').click();
    await id('push-submit').waitFor({ timeout: 10_000 });
    await waitFor('a package to push', () => id('push-submit').isEnabled(), (v) => v, 10_000);
    await id('push-submit').click();
    await id('campaign-detail').waitFor({ timeout: 30_000 });
    await waitFor('every meter verified', () => text('campaign-progress-text'), (t) => t.replace(/\s/g, '') === `${METERS}/${METERS}`, 60_000);
    expect(await text('campaign-blocks-text')).toMatch(/^(\d+) \/ \1$/);
    expect(await text('campaign-on-air-text')).toMatch(/^\d+ \/ \d+ frames$/);
  });

  step('activate while the DC reboots: the campaign says why it waits, Pause and Cancel stay available', async () => {
    const campaign = (await id('campaign-detail').getAttribute('aria-label'))!.replace('Campaign ', '');
    await id('campaign-confirmation').fill(campaign);
    await waitFor('activate enabled', () => id('campaign-activate').isEnabled(), (v) => v, 10_000);
    const rebooted = sim!.reboot(15_000);
    await waitFor('link down', () => text('header-link'), (t) => /reconnecting|connecting|disconnected/.test(t), 15_000);
    await id('campaign-activate').click();
    await waitFor('the campaign says why it waits', () => text('campaign-note'), (t) => t.startsWith('Waiting: the DC link'), 15_000);
    expect(await text('campaign-status')).toBe('activating');
    expect(await text('campaign-note')).toContain('goes on by itself when the link is back');
    expect(await id('campaign-pause').isEnabled()).toBe(true);
    expect(await id('campaign-cancel').isEnabled()).toBe(true);
    await screenshot(page, '20-campaign-waiting-for-dc');
    await rebooted;
  });

  step('the DC is back: activation completes by itself', async () => {
    await waitFor('every meter activated', () => text('campaign-activated'), (t) => t.replace(/\s/g, '') === `${METERS}/${METERS}`, 60_000);
    await waitFor('completed', () => text('campaign-status'), (t) => t === 'completed', 30_000);
    expect(await id('campaign-note').count()).toBe(0);
    expect(sim!.fleet.get(1).firmware.running).toEqual({ version: '2.0.0', sequence: 2 });
    await screenshot(page, '21-campaign-completed-after-dc-reboot');
  });
});
