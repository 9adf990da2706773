import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { readPublicKey } from '../../main/firmware/keys.js';
import { toHex } from '../../main/grep/index.js';
import { ROOT, screenshot, waitFor } from './browser.js';
import { consoleHarness } from './harness.js';

/**
 * The whole app through the headless console and its embedded simulated DC (200 meters), driven in
 * chromium like an operator would: unlock through the gate, commission, leave, recover, suspect a
 * departed meter, re-seed, switch disconnectors, roll out firmware, verify the audit chain. Every wait
 * is bounded.
 */
const PASSPHRASE = 'e2e passphrase of the store';
const FLEET = 200;
const ui = consoleHarness({ name: 'console', args: () => ['--port', '0'], stepTimeout: 180_000 });
const { id, text, step } = ui;
let members: number[] = [];

const headerGroupName = async () => (await text('header-group')).replace(/^Group /, '');

describe('the console, end to end', () => {
  step('unlock through the gate', async () => {
    await id('unlock-passphrase').waitFor({ timeout: 20_000 });
    await id('unlock-passphrase').fill(PASSPHRASE);
    if ((await id('unlock-repeat').count()) > 0) {
      await id('unlock-repeat').fill(`${PASSPHRASE}!`);
      expect(await id('unlock-submit').isDisabled()).toBe(true);
      await id('unlock-repeat').fill(PASSPHRASE);
    }
    await screenshot(ui.page, '00-unlock');
    await id('unlock-submit').click();
    await id('nav-connection').waitFor({ timeout: 60_000 });
  });

  step('the link to the simulated DC is up', async () => {
    await id('nav-connection').click();
    await id('connection-link-state').waitFor({ timeout: 10_000 });
    if ((await text('connection-link-state')) !== 'connected') {
      const connect = ui.page.locator('[data-testid^=connection-connect-]').first();
      if (await connect.isEnabled()) await connect.click();
    }
    await waitFor('link connected', () => text('header-link'), (t) => /connected/.test(t) && !/disconnected|reconnecting/.test(t), 60_000);
    await screenshot(ui.page, '01-connection');
  });

  step(`commission ${FLEET} meters from the simulated fleet's CSV`, async () => {
    await id('nav-actions').click();
    await id('actions-tab-commission').click();
    await id('commission-use-fleet').waitFor({ timeout: 10_000 });

    // a CSV with a bad line: the plan lists it, and Execute waits for the explicit opt-in
    const badCsv = join(ui.dir, 'with-bad-line.csv');
    writeFileSync(badCsv, 'id,serial,model,nodeKey\n1,SIM-A,GX-110 single-phase,00112233445566778899aabbccddeeff\n2,SIM-B,GX-110 single-phase,not-hex\n');
    await id('commission-csv-file').setInputFiles(badCsv);
    await waitFor('CSV loaded', () => text('commission-csv-loaded'), (t) => t.startsWith('2 line(s)'), 5000);
    await id('commission-plan-csv').click();
    await id('commission-plan-rejected').waitFor({ timeout: 30_000 });
    expect(await text('commission-plan-rejected')).toMatch(/line 3/);
    expect(await id('commission-execute').isDisabled()).toBe(true);
    await id('commission-accept-rejected').check();
    expect(await id('commission-execute').isEnabled()).toBe(true);
    await screenshot(ui.page, '02-commission-rejected');

    await id('commission-use-fleet').click();
    await id('commission-limit').fill(String(FLEET));
    await id('commission-plan-csv').click();
    await id('commission-plan').waitFor({ timeout: 60_000 });
    expect(await text('commission-plan-affected-count')).toBe(String(FLEET));
    // into an empty group the compact re-seed (one roster, one short SEED each) beats one join each
    expect(await text('commission-plan-method')).toBe('compact re-seed');
    const bytesOf = async (method: string) => Number(await id(`commission-plan-method-${method}`).getAttribute('data-bytes'));
    expect(await bytesOf('reseed')).toBeGreaterThan(0);
    expect(await bytesOf('joins')).toBeGreaterThan(await bytesOf('reseed'));
    expect(await text('commission-plan-commissioning')).toMatch(/^compact re-seed: [\d,]+ B — .*one join each: [\d,]+ B \(\d+\.\dx more\)/);
    expect(await text('commission-plan-messages')).toMatch(/ROSTER1/);
    expect(await text('commission-plan-airtime')).toMatch(/^about [\d.]+ s of airtime at 100 kbit\/s$/);
    await screenshot(ui.page, '02-commission-plan');
    expect(await id('commission-execute').isEnabled()).toBe(true);
    await id('commission-execute').click();
    await id('commission-result').waitFor({ timeout: 170_000 });
    expect(await text('commission-result-converged')).toBe('Converged');
    await screenshot(ui.page, '03-commission-result');
  }, 240_000);

  step('the Group table shows every member, all in sync', async () => {
    await id('nav-group').click();
    await waitFor('group count', () => text('group-count'), (t) => t.startsWith(`${FLEET} of ${FLEET}`), 30_000);
    await waitFor('all in sync', () => text('group-total-in-sync'), (t) => t === String(FLEET), 120_000, 500);
    const rows = ui.page.locator('[data-testid^=group-table-row-]');
    const testIds = await Promise.all((await rows.all()).map((row) => row.getAttribute('data-testid')));
    members = testIds.map((t) => Number(t!.replace('group-table-row-', ''))).sort((a, b) => a - b);
    expect(members.length).toBeGreaterThan(8);
    await screenshot(ui.page, '04-group');
  });

  step('leave: Execute disabled until the meter id is typed exactly, then the meter shows as left', async () => {
    const leaving = members[0]!;
    await id('nav-actions').click();
    await id('actions-tab-leave').click();
    await id('leave-ids').fill(String(leaving));
    await id('leave-make-plan').click();
    await id('leave-execute').waitFor({ timeout: 30_000 });
    expect(await text('leave-confirmation-expected')).toBe(String(leaving));
    for (const typed of ['', String(leaving).slice(0, -1), `${leaving} `, `${leaving}0`]) {
      await id('leave-confirmation').fill(typed);
      expect(await id('leave-execute').isDisabled(), `typed ${JSON.stringify(typed)}`).toBe(true);
    }
    await id('leave-confirmation').fill(String(leaving));
    expect(await id('leave-execute').isEnabled()).toBe(true);
    await screenshot(ui.page, '05-leave-confirm');
    await id('leave-execute').click();
    await id('leave-result').waitFor({ timeout: 150_000 });
    await id('nav-group').click();
    await id('group-filter').fill(String(leaving));
    const status = id(`group-table-row-${leaving}`).getByTestId('member-status');
    await waitFor('meter shown as left', async () => ((await status.count()) > 0 ? ((await status.textContent()) ?? '') : ''), (t) => t === 'left', 30_000);
    await id('group-filter').fill('');
  }, 200_000);

  step('recovery from a 3-meter collusion: type the group name', async () => {
    const suspects = members.slice(1, 4);
    await id('nav-actions').click();
    await id('actions-tab-recover').click();
    await id('recover-ids').fill(suspects.join(', '));
    for (const s of suspects) await id(`recover-review-${s}`).waitFor({ timeout: 5000 });
    await id('recover-make-plan').click();
    await id('recover-execute').waitFor({ timeout: 30_000 });
    const groupName = await text('recover-confirmation-expected');
    expect(groupName.length).toBeGreaterThan(0);
    expect(await id('recover-execute').isDisabled()).toBe(true);
    await id('recover-confirmation').fill(groupName.toUpperCase() === groupName ? `${groupName}x` : groupName.toUpperCase());
    expect(await id('recover-execute').isDisabled()).toBe(true);
    await id('recover-confirmation').fill(groupName);
    await screenshot(ui.page, '06-recover-confirm');
    await id('recover-execute').click();
    await id('recover-result').waitFor({ timeout: 170_000 });
    await screenshot(ui.page, '07-recover-result');
    await id('nav-group').click();
    for (const s of suspects) {
      await id('group-filter').fill(String(s));
      const status = id(`group-table-row-${s}`).getByTestId('member-status');
      await waitFor(`meter ${s} evicted`, async () => ((await status.count()) > 0 ? ((await status.textContent()) ?? '') : ''), (t) => t === 'recovered', 30_000);
    }
    await id('group-filter').fill('');
  }, 240_000);

  step('after the recovery, History and Actions say what the suspicion record makes a leave cost, and offer the re-seed', async () => {
    const recordSentence = /^a leave now costs [\d,]+ B \(\d+ messages\) instead of 320 B \(2\): the suspicion record holds 3 meters \(sized on a leave of meter \d+\)$/;
    await id('nav-history').click();
    await waitFor('History notice', () => text('history-reseed-leave-cost'), (t) => recordSentence.test(t), 30_000);
    expect(await id('history-reseed-offer').isEnabled()).toBe(true);
    await screenshot(ui.page, '07a-history-suspicion-record');
    await id('nav-actions').click();
    await waitFor('Actions notice', () => text('reseed-leave-cost'), (t) => recordSentence.test(t), 30_000);
    expect(await id('reseed-offer').isEnabled()).toBe(true);
  });

  step('suspect the departed meter: the cost of a later leave first, then its id typed exactly', async () => {
    const departed = members[0]!;
    await id('nav-actions').click();
    await id('actions-tab-suspect').click();
    await id('suspect-ids').fill(String(departed));
    expect(await id('suspect-execute').isDisabled()).toBe(true);
    await id('suspect-preview').click();
    await id('suspect-cost').waitFor({ timeout: 30_000 });
    expect(await text('suspect-cost')).toMatch(/^With them suspected, each later leave (will cost [\d,]+ B \(\d+ messages\) instead of [\d,]+ B \(\d+\) now|costs [\d,]+ B \(\d+ messages\), as now)\.$/);
    expect(await text('suspect-confirmation-expected')).toBe(String(departed));
    for (const typed of ['', `${departed} `, `${departed}0`, String(departed).slice(1)]) {
      await id('suspect-confirmation').fill(typed);
      expect(await id('suspect-execute').isDisabled(), `typed ${JSON.stringify(typed)}`).toBe(true);
    }
    await id('suspect-confirmation').fill(String(departed));
    expect(await id('suspect-execute').isEnabled()).toBe(true);
    await screenshot(ui.page, '07b-suspect-departed');
    await id('suspect-execute').click();
    await id('suspect-result').waitFor({ timeout: 30_000 });
    expect(await text('suspect-result')).toContain('holds 4 meter(s)');
    await waitFor('record of 4', () => text('reseed-leave-cost'), (t) => t.includes('the suspicion record holds 4 meters'), 30_000);
  });

  step('re-seed: its cost and airtime shown, Execute waits for the exact group name, then a leave costs 320 B (2 broadcasts) again', async () => {
    const name = await headerGroupName();
    await id('nav-actions').click();
    await id('reseed-offer').click();
    await id('reseed-plan').waitFor({ timeout: 30_000 });
    expect(await text('reseed-plan-affected-count')).toBe('every member');
    expect(await text('reseed-plan-messages')).toContain('ROSTER1');
    expect(await text('reseed-plan-messages')).toContain('SEED');
    expect(await text('reseed-cost')).toMatch(/^The re-seed costs [\d,]+ B in [\d,]+ messages, about [\d.]+ s of airtime at 100 kbit\/s\.$/);
    expect(await text('reseed-confirmation-expected')).toBe(name);
    for (const typed of ['', name.slice(0, -1), `${name} `, name.toUpperCase()]) {
      await id('reseed-confirmation').fill(typed);
      expect(await id('reseed-execute').isDisabled(), `typed ${JSON.stringify(typed)}`).toBe(true);
    }
    // a wrong name sent past the disabled button is the back end's refusal, and nothing runs
    const epoch = await text('header-epoch');
    const direct = await ui.answer('planReseed', []);
    expect(direct.ok).toBe(true);
    const refused = await ui.answer('execute', [(direct as { value: { id: string } }).value.id, { confirmation: name.toUpperCase() }]);
    expect(refused).toMatchObject({ ok: false, error: { code: 'CONFIRMATION' } });
    expect(await text('header-epoch')).toBe(epoch);

    await id('reseed-confirmation').fill(name);
    expect(await id('reseed-execute').isEnabled()).toBe(true);
    await screenshot(ui.page, '07c-reseed-confirm');
    await id('reseed-execute').click();
    await id('reseed-result').waitFor({ timeout: 170_000 });
    expect(await text('reseed-result-converged')).toBe('Converged');
    const empty = await waitFor('record emptied', () => text('reseed-leave-cost'), (t) => t.startsWith('the suspicion record is empty: a leave costs 320 B (2 messages)'), 30_000);
    const meter = Number(/leave of meter (\d+)/.exec(empty)![1]);
    await screenshot(ui.page, '07d-reseed-result');

    await id('actions-tab-leave').click();
    await id('leave-ids').fill(String(meter));
    await id('leave-make-plan').click();
    await id('leave-execute').waitFor({ timeout: 30_000 });
    expect(await text('leave-plan-broadcasts')).toBe('2');
    expect(await text('leave-plan-unicasts')).toBe('0');
    expect(await text('leave-plan-bytes')).toMatch(/^320 /);
    expect(await id('leave-plan-record').count()).toBe(0);
    await screenshot(ui.page, '07e-leave-after-reseed');
  }, 240_000);

  step('disconnector command to a selection: per-meter results', async () => {
    const selection = members.slice(4, 7);
    await id('nav-commands').click();
    await id('command-action-open').check();
    await id('command-target-selection').check();
    await id('command-ids').fill(selection.join(' '));
    await id('command-plan').click();
    await id('command-execute').waitFor({ timeout: 30_000 });
    // listed meters are confirmed by the tick; only a command to every member asks for typing
    expect(await id('command-confirmation').count()).toBe(0);
    expect(await id('command-execute').isDisabled()).toBe(true);
    await id('command-confirm').check();
    await id('command-execute').click();
    await id('command-result').waitFor({ timeout: 120_000 });
    for (const m of selection) expect(await text(`command-result-${m}`)).toMatch(/confirmed|missing/);
    expect(Number(await text('command-confirmed-count')) + Number(await text('command-missing-count'))).toBe(selection.length);
    await screenshot(ui.page, '08-commands');
  }, 180_000);

  step('disconnector command to every member: the plan names each current member, Execute waits for the group name', async () => {
    const current = Number((await text('header-members')).split(' ')[0]);
    expect(current).toBe(FLEET - 4);
    const removed = new Set(members.slice(0, 4));
    await id('nav-commands').click();
    await id('command-action-close').check();
    await id('command-target-all').check();
    await id('command-plan').click();
    await id('command-execute').waitFor({ timeout: 30_000 });
    expect(await text('command-plan-affected-count')).toBe(String(current));
    const [shown, more] = (await text('command-plan-affected')).split(' … and ');
    const ids = shown!.split(', ').map(Number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.filter((meter) => removed.has(meter))).toEqual([]);
    expect(ids.length + Number(more!.replace(' more', ''))).toBe(current);
    expect(await text('command-execute')).toBe(`Close ${current} disconnector(s)`);

    const name = await headerGroupName();
    expect(await text('command-confirmation-expected')).toBe(name);
    expect(await id('command-confirm').count()).toBe(0);
    for (const typed of ['', name.slice(0, -1), `${name} `, name.toUpperCase()]) {
      await id('command-confirmation').fill(typed);
      expect(await id('command-execute').isDisabled(), `typed ${JSON.stringify(typed)}`).toBe(true);
    }
    await id('command-confirmation').fill(name);
    expect(await id('command-execute').isEnabled()).toBe(true);
    await screenshot(ui.page, '08-commands-every-member');
    await id('command-execute').click();
    await id('command-result').waitFor({ timeout: 120_000 });
    expect(Number(await text('command-confirmed-count')) + Number(await text('command-missing-count'))).toBe(current);
  }, 180_000);

  step('firmware: stage a signed package, every check passed', async () => {
    await id('nav-group').click();
    const model = (await id(`group-table-row-${members[5]}`).locator('td').nth(2).textContent())!;
    const image = join(ui.dir, 'image.bin');
    writeFileSync(image, Buffer.from(Array.from({ length: 6000 }, (_, i) => (i * 37) & 0xff)));
    const pkg = join(ui.dir, 'firmware.pkg');
    execFileSync(process.execPath, ['--import', 'tsx', 'main/cli/main.ts', 'fw', 'pack', '--image', image, '--model', model, '--version', '2.0.0', '--seq', '2', '--key', 'resources/firmware/demo-vendor.key', '--vendor', 'Demo', '-o', pkg], { cwd: ROOT, timeout: 60_000 });

    await id('nav-firmware').click();
    // the key file's own reader: its framing lines are not part of the key the page takes
    const demoPublic = toHex(readPublicKey(join(ROOT, 'resources/firmware/demo-vendor.pub')));
    await id('firmware-trusted-keys').waitFor({ timeout: 10_000 });
    await ui.page.waitForTimeout(500);
    if (!((await text('firmware-trusted-keys')).includes(demoPublic.slice(0, 16)))) {
      await id('trust-label').fill('demo vendor');
      await id('trust-public-key').fill(demoPublic);
      await id('trust-submit').click();
      await waitFor('demo key trusted', () => text('firmware-trusted-keys'), (t) => t.includes(demoPublic.slice(0, 16)), 10_000);
    }
    await id('firmware-file').setInputFiles(pkg);
    await id('firmware-checks').waitFor({ timeout: 30_000 });
    for (const check of ['format', 'signature', 'size', 'digest', 'model', 'sequence']) {
      expect(await id(`firmware-check-${check}`).getAttribute('data-status'), check).toBe('passed');
    }
    expect(await text('firmware-staging-verdict')).toContain('staged as package');
    await screenshot(ui.page, '09-firmware-staged');
  });

  step('firmware: push, every meter verified, activate, every meter activated', async () => {
    await id('push-submit').click();
    await id('campaign-detail').waitFor({ timeout: 30_000 });
    const done = await waitFor(
      'all meters verified',
      () => text('campaign-progress-text'),
      (t) => {
        const m = /(\d+) \/ (\d+)/.exec(t);
        return m !== null && Number(m[2]) > 0 && m[1] === m[2];
      },
      240_000,
      1000,
    );
    const meters = Number(/\/ (\d+)/.exec(done)![1]);
    expect(meters).toBeGreaterThan(FLEET / 2);
    expect(await id('campaign-progress').getAttribute('value')).toBe(String(meters));
    await id('campaign-confirmation').waitFor({ timeout: 30_000 });
    const campaign = (await id('campaign-detail').getAttribute('aria-label'))!.replace('Campaign ', '');
    expect(await text('campaign-confirmation-expected')).toBe(campaign);
    for (const typed of ['', `${campaign} `, `${campaign}0`, `#${campaign}`]) {
      await id('campaign-confirmation').fill(typed);
      expect(await id('campaign-activate').isDisabled(), `typed ${JSON.stringify(typed)}`).toBe(true);
    }
    await id('campaign-confirmation').fill(campaign);
    await waitFor('activate enabled', () => id('campaign-activate').isEnabled(), (v) => v, 30_000);
    await screenshot(ui.page, '10-firmware-verified');
    await id('campaign-activate').click();
    await waitFor('all meters activated', () => text('campaign-activated'), (t) => t === `${meters} / ${meters}`, 180_000, 1000);
    await screenshot(ui.page, '11-firmware-activated');
  }, 480_000);

  step('history and audit: the chain verifies', async () => {
    await id('nav-history').click();
    await ui.page.locator('[data-testid^=history-table-row-]').first().waitFor({ timeout: 10_000 });
    await ui.page.locator('[data-testid^=history-table-row-]').first().click();
    await id('history-cost-chart').waitFor({ timeout: 10_000 });
    // the re-seed is an operation like the others, with its messages counted
    expect(await ui.page.locator('[data-testid^=history-table-row-]', { hasText: 'reseed' }).first().textContent()).toMatch(/ROSTER ×1, SEED ×\d+/);
    // the record is empty again: no notice
    expect(await id('history-reseed').count()).toBe(0);
    await screenshot(ui.page, '12-history');
    await id('nav-audit').click();
    await id('audit-verify').click();
    await id('audit-verdict').waitFor({ timeout: 30_000 });
    expect(await text('audit-verdict')).toContain('chain intact');
    await screenshot(ui.page, '13-audit');
    expect(ui.log.filter((l) => l.startsWith('[pageerror]') || /Content Security Policy|Refused to/.test(l))).toEqual([]);
  });

  step('restart: the store opens locked, a wrong passphrase is refused with its code, the group is intact', async () => {
    const before = await text('header-members');
    const epoch = await text('header-epoch');
    await ui.stopConsole();
    await ui.page.goto((await ui.startConsole()).url);
    await id('unlock-passphrase').waitFor({ timeout: 20_000 });
    expect(await id('unlock-repeat').count()).toBe(0);
    await id('unlock-passphrase').fill(`${PASSPHRASE}?`);
    await id('unlock-submit').click();
    await id('unlock-error').waitFor({ timeout: 30_000 });
    expect(await text('unlock-error')).toContain('WRONG_PASSPHRASE');
    await screenshot(ui.page, '14-unlock-wrong-passphrase');
    await id('unlock-passphrase').fill(PASSPHRASE);
    await id('unlock-submit').click();
    await id('nav-group').waitFor({ timeout: 60_000 });
    expect(await text('header-members')).toBe(before);
    expect(await text('header-epoch')).toBe(epoch);
  });
});
