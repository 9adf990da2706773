import { describe, expect } from 'vitest';
import { screenshot, waitFor } from './browser.js';
import { consoleHarness } from './harness.js';

/**
 * Finding one meter: its detail from the Group table by a click and by Enter, a Resync run from it,
 * Esc back to its row; meters typed as ranges and serials in the leave form. The console runs its
 * embedded simulated DC with a small fleet, commissioned through the API (the commissioning screens
 * are console.e2e.ts's); every wait is bounded.
 */
const PASSPHRASE = 'e2e passphrase of the members store';
const FLEET = 20;
const ui = consoleHarness({ name: 'members', args: () => ['--port', '0', '--meters', String(FLEET), '--loss', '0'], stepTimeout: 90_000 });
const { id, text, step, api } = ui;
/** serial of each meter, from the simulated fleet's CSV */
const serials = new Map<number, string>();

/** whether the focus is on the members grid (the tests' tsconfig has no DOM types: the page's document is typed by hand) */
const focusedGrid = () =>
  ui.page.evaluate(() => (globalThis as unknown as { document: { activeElement: { getAttribute(name: string): string | null } | null } }).document.activeElement?.getAttribute('role') === 'grid');

describe('finding a meter', () => {
  step('unlock, and the fleet commissioned', async () => {
    await id('unlock-passphrase').waitFor({ timeout: 20_000 });
    await id('unlock-passphrase').fill(PASSPHRASE);
    if ((await id('unlock-repeat').count()) > 0) await id('unlock-repeat').fill(PASSPHRASE);
    await id('unlock-submit').click();
    await id('nav-group').waitFor({ timeout: 60_000 });
    await waitFor('link connected', () => text('header-link'), (t) => /connected/.test(t) && !/disconnected|reconnecting/.test(t), 60_000);
    const csv = (await api<string>('simulatedFleetCsv', []))!;
    for (const line of csv.trim().split('\n').slice(1)) {
      const [meter, serial] = line.split(',');
      serials.set(Number(meter), serial!);
    }
    const plan = await api<{ id: string }>('planCommissionCsv', [csv]);
    expect(await api<{ converged: boolean }>('execute', [plan.id, {}])).toMatchObject({ converged: true });
    // a disconnector state to show: meter 3 confirms an open
    const command = await api<{ id: string }>('planCommand', [{ action: 'open', meters: [3] }]);
    expect(await api<{ confirmed: number[] }>('executeCommand', [command.id, {}])).toMatchObject({ confirmed: [3] });
  });

  step('the Group table has firmware and disconnector columns', async () => {
    await id('nav-group').click();
    await waitFor('group count', () => text('group-count'), (t) => t.startsWith(`${FLEET} of ${FLEET}`), 30_000);
    expect(await text('group-table-header-firmware')).toMatch(/^Firmware/);
    expect(await text('group-table-header-disconnector')).toMatch(/^Disconnector/);
    const row = (meter: number) => id(`group-table-row-${meter}`);
    await waitFor('meter 3 shown open', async () => (await row(3).textContent()) ?? '', (t) => t.includes('open'), 10_000);
    expect(await row(4).textContent()).toContain('unknown');
  });

  step('a click on a row opens its detail; Esc closes it and focus is back on the row', async () => {
    await id('group-table-row-5').click();
    await id('member-detail').waitFor({ timeout: 10_000 });
    expect(await text('member-detail-id')).toBe('5');
    await waitFor('detail loaded', () => text('member-detail-serial'), (t) => t === serials.get(5), 10_000);
    await waitFor('meter 5 in sync', () => text('member-detail-sync'), (t) => t === 'in sync', 30_000);
    expect(await text('member-detail-status')).toMatch(/^member, joined at epoch \d+$/);
    expect(await text('member-detail-acked')).toMatch(/^(\d+) of group epoch \1$/);
    expect(await text('member-detail-firmware')).toBe('unknown (no activation reported)');
    expect(await text('member-detail-operations')).toMatch(/commission.*named it.*converged/);
    await screenshot(ui.page, 'members-01-detail');
    await ui.page.keyboard.press('Escape');
    await id('member-detail').waitFor({ state: 'detached', timeout: 5000 });
    expect(await focusedGrid()).toBe(true);
    expect(await id('group-table-row-5').getAttribute('aria-selected')).toBe('true');
  });

  step('Enter on the selected row opens its detail', async () => {
    await ui.page.keyboard.press('ArrowDown');
    expect(await id('group-table-row-6').getAttribute('aria-selected')).toBe('true');
    await ui.page.keyboard.press('Enter');
    await id('member-detail').waitFor({ timeout: 10_000 });
    expect(await text('member-detail-id')).toBe('6');
    await ui.page.keyboard.press('Escape');
    await id('member-detail').waitFor({ state: 'detached', timeout: 5000 });
    expect(await focusedGrid()).toBe(true);
  });

  step('Resync from the detail runs to completion and joins its history', async () => {
    await id('group-table-row-3').click();
    await id('member-detail').waitFor({ timeout: 10_000 });
    await waitFor('disconnector shown', () => text('member-detail-disconnector'), (t) => t.startsWith('open (command '), 10_000);
    await id('member-detail-resync').click();
    await id('member-resync-plan').waitFor({ timeout: 30_000 });
    expect(await text('member-resync-plan-affected')).toBe('3');
    await id('member-resync-execute').click();
    await id('member-resync-result').waitFor({ timeout: 60_000 });
    expect(await text('member-resync-result-converged')).toBe('Converged');
    await waitFor('resync in the operations', () => text('member-detail-operations'), (t) => /resync.*named it/.test(t), 10_000);
    await id('member-resync-result').scrollIntoViewIfNeeded();
    await screenshot(ui.page, 'members-02-resync');
    await ui.page.keyboard.press('Escape');
    await id('member-detail').waitFor({ state: 'detached', timeout: 5000 });
  });

  step('the leave form resolves a range and a serial, and counts them before planning', async () => {
    await id('nav-actions').click();
    await id('actions-tab-leave').click();
    await id('leave-ids').fill(`10-13, ${serials.get(17)}`);
    await waitFor('resolved count', () => text('leave-resolved'), (t) => t === `5 meters: 10-13, ${serials.get(17)} (meter 17)`, 10_000);
    expect(await id('leave-make-plan').isEnabled()).toBe(true);
    await id('leave-ids').fill('13-10 SN-NO-SUCH');
    expect(await text('leave-problems')).toContain('13-10 runs backwards: write 10-13');
    expect(await text('leave-problems')).toContain('"SN-NO-SUCH" is not a meter id, a range such as 100-180, or the serial of a meter of the group');
    expect(await id('leave-make-plan').isDisabled()).toBe(true);
    await id('leave-ids').fill(`10-13, ${serials.get(17)}`);
    await screenshot(ui.page, 'members-03-leave-range-serial');
  });

  step('the page logged no error', async () => {
    expect(ui.log.filter((line) => line.startsWith('[pageerror]') || /Content Security Policy|Refused to/.test(line))).toEqual([]);
  });
});
