import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { nodeRandom } from '../../main/crypto/node.js';
import { keyFileText } from '../../main/files/keyFile.js';
import { readPublicKey } from '../../main/firmware/keys.js';
import { fromHex, toHex } from '../../main/grep/index.js';
import { METER_MODELS } from '../../sim/fleet.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import { ROOT, screenshot, waitFor } from './browser.js';
import { consoleHarness, freePort } from './harness.js';

/**
 * A firmware campaign across a DC reboot (issue 15), in chromium through the console: the console runs
 * against a simulated DC in this process, which reboots (the link drops, the meters keep their state)
 * just as the operator presses Activate. The campaign says why it waits, keeps Pause and Cancel
 * available, and completes by itself once the DC is back. Every wait is bounded.
 */
const PASSPHRASE = 'e2e passphrase of the store';
const METERS = 20;
const MODEL = METER_MODELS[0];
let sim: RunningSimulator | undefined;
/** the DC's port and pairing key, chosen before the console starts: it dials the DC the test starts after it */
let dc: { port: number; pairingKey: Uint8Array };
const ui = consoleHarness({
  name: 'restart',
  args: (dir) => ['--port', '0', '--passphrase-file', join(dir, 'passphrase'), '--dc', `tcp:127.0.0.1:${dc.port}`, '--pairing-key', join(dir, 'pairing.key')],
  stepTimeout: 120_000,
  viewport: { width: 1400, height: 1000 },
  prepare: async (dir) => {
    dc = { port: await freePort(), pairingKey: nodeRandom(32) };
    writeFileSync(join(dir, 'pairing.key'), keyFileText('pairing', dc.pairingKey));
    writeFileSync(join(dir, 'passphrase'), `${PASSPHRASE}\n`);
  },
  // the DC listens only once the console knows the group's key
  started: async () => {
    const session = await ui.api<{ group: { id: number; kmPublicKey: string } }>('session', []);
    sim = await startSimulator({
      meters: METERS, loss: 0, seed: 5, tcp: { host: '127.0.0.1', port: dc.port }, baud: 115_200, 'pairing-key': dc.pairingKey, 'km-public-key': fromHex(session.group.kmPublicKey),
      group: session.group.id, rate: 100_000, latency: 5, model: MODEL,
    });
  },
  stopped: async () => sim?.close(),
});
const { id, text, step, api } = ui;

describe('a firmware campaign across a DC reboot', () => {
  step('the meters are commissioned and a signed package staged (as a script would)', async () => {
    await waitFor('link connected', () => text('header-link'), (t) => /connected/.test(t) && !/disconnected|reconnecting/.test(t), 60_000);
    const plan = await api<{ id: string; confirmation: string | undefined }>('planCommissionCsv', [sim!.fleet.toCsv()]);
    await api('execute', [plan.id, { confirmation: plan.confirmation ?? '' }]);
    await api('trustKey', ['demo vendor', toHex(readPublicKey(join(ROOT, 'resources/firmware/demo-vendor.pub')))]);
    const image = join(ui.dir, 'image.bin');
    writeFileSync(image, nodeRandom(8 * 1024));
    const pkg = join(ui.dir, 'firmware.pkg');
    execFileSync(process.execPath, ['--import', 'tsx', 'main/cli/main.ts', 'fw', 'pack', '--image', image, '--model', MODEL, '--version', '2.0.0', '--seq', '2', '--key', 'resources/firmware/demo-vendor.key', '--vendor', 'Demo', '-o', pkg], { cwd: ROOT, timeout: 60_000 });
    const staged = await api<{ staged: { id: number } | undefined }>('stageFirmware', [readFileSync(pkg).toString('base64')]);
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
    await screenshot(ui.page, '20-campaign-waiting-for-dc');
    await rebooted;
  });

  step('the DC is back: activation completes by itself', async () => {
    await waitFor('every meter activated', () => text('campaign-activated'), (t) => t.replace(/\s/g, '') === `${METERS}/${METERS}`, 60_000);
    await waitFor('completed', () => text('campaign-status'), (t) => t === 'completed', 30_000);
    expect(await id('campaign-note').count()).toBe(0);
    expect(sim!.fleet.get(1).firmware.running).toEqual({ version: '2.0.0', sequence: 2 });
    await screenshot(ui.page, '21-campaign-completed-after-dc-reboot');
  });
});
