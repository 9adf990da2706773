import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { screenshot, waitFor } from './browser.js';
import { consoleHarness, freePort } from './harness.js';

/**
 * The page says what is really happening (issue 15): the DC's queue in the header on every screen, the
 * running operation after a reload with its progress and the time left from the DC's queue, errors that
 * go when the state they describe changes, a command to every member, and the console process killed,
 * restarted and unreachable. The fleet is lossy (2 % each way) so an operation lasts the 5 s ack window at least.
 */
const PASSPHRASE = 'e2e passphrase of the store';
const FLEET = 150;
let port: number;
const ui = consoleHarness({
  name: 'truth',
  args: (dir) => ['--port', String(port), '--meters', String(FLEET), '--loss', '0.02', '--passphrase-file', join(dir, 'passphrase')],
  stepTimeout: 90_000,
  // one port for every start: the page, still at the old address, must reach the restarted console
  prepare: async (dir) => {
    writeFileSync(join(dir, 'passphrase'), `${PASSPHRASE}\n`, { mode: 0o600 });
    port = await freePort();
  },
});
const { id, text, step, api } = ui;
let members: number[] = [];

const membersInHeader = async () => Number((await text('header-members')).split(' ')[0]);

async function leaveBehindThePage(meter: number): Promise<void> {
  const plan = await api<{ id: string }>('planLeave', [[meter]]);
  await api('execute', [plan.id, { confirmation: String(meter) }]);
}

describe('the page says what is really happening', () => {
  step("the header shows the DC's queue on every screen", async () => {
    await waitFor('link connected', () => text('header-link'), (t) => /^DC connected/.test(t), 30_000);
    // the simulated DC reports its status every 5 s
    const queue = await waitFor('DC queue in the header', () => text('header-dc-queue'), (t) => t !== '', 15_000);
    expect(queue).toMatch(/^DC queue: (empty|\d+ frames?, about [\d.]+ s of airtime)$/);
    await id('nav-audit').click();
    expect(await id('header-dc-queue').isVisible()).toBe(true);
    await screenshot(ui.page, 'truth-00-header-queue');
  });

  step('a reload mid-commissioning shows the running operation, its acknowledgements and the time left', async () => {
    await id('nav-actions').click();
    await id('actions-tab-commission').click();
    await id('commission-use-fleet').click();
    await id('commission-plan-csv').click();
    await id('commission-execute').waitFor({ timeout: 30_000 });
    expect(await text('commission-plan-affected-count')).toBe(String(FLEET));
    await id('commission-execute').click();
    await id('running-now').waitFor({ timeout: 10_000 });
    await ui.page.reload();
    const running = ui.page.locator('[data-testid^=running-operation-][data-operation=commission]');
    await running.waitFor({ timeout: 10_000 });
    expect(await running.getByTestId('running-operation-acked').textContent()).toMatch(new RegExp(`^\\d+ of ${FLEET} members hold epoch 1$`));
    expect(await running.getByTestId('running-operation-left').textContent()).toMatch(/^(about [\d.]+ s left on the DC's queue \(\d+ frames?\)|nothing waits in the DC's queue: waiting for the meters' answers)$/);
    await screenshot(ui.page, 'truth-01-running-after-reload');
    // and it says when the operation ended
    await waitFor('the operation ended', () => id('running-now').count(), (n) => n === 0, 60_000);
    await waitFor('members in the header', membersInHeader, (n) => n === FLEET, 10_000);
    const group = (await api('group', [])) as { members: { meterId: number; status: string }[] };
    members = group.members.filter((m) => m.status === 'member').map((m) => m.meterId);
  });

  step('a command to every member plans each member, waits for the group name, and runs', async () => {
    // right after a converged commissioning every member holds the group key the command is sealed under
    const current = await membersInHeader();
    expect(current).toBe(FLEET);
    await id('nav-commands').click();
    await id('command-action-open').check();
    await id('command-target-all').check();
    await id('command-plan').click();
    await id('command-execute').waitFor({ timeout: 30_000 });
    expect(await text('command-plan-affected-count')).toBe(String(current));
    expect(await text('command-execute')).toBe(`Open ${current} disconnector(s)`);
    expect(await id('command-execute').isDisabled()).toBe(true);
    const name = await text('command-confirmation-expected');
    expect(`Group ${name}`).toBe(await text('header-group'));
    await id('command-confirmation').fill(name);
    expect(await id('command-execute').isEnabled()).toBe(true);
    await screenshot(ui.page, 'truth-02-command-every-member');
    await id('command-execute').click();
    await id('command-result').waitFor({ timeout: 60_000 });
    expect(Number(await text('command-confirmed-count')) + Number(await text('command-missing-count'))).toBe(current);
    expect(Number(await text('command-confirmed-count'))).toBeGreaterThan(0);
    console.log(`command to every member: ${await text('command-confirmed-count')} confirmed, ${await text('command-missing-count')} missing`);
  });

  step('no "not a member" for the meter a leave just removed', async () => {
    const leaving = members[0]!;
    await id('nav-actions').click();
    await id('actions-tab-leave').click();
    await id('leave-ids').fill(String(leaving));
    await id('leave-make-plan').click();
    await id('leave-confirmation').fill(String(leaving));
    await id('leave-execute').click();
    await id('leave-result').waitFor({ timeout: 60_000 });
    await waitFor('members in the header', membersInHeader, (n) => n === FLEET - 1, 10_000);
    // the group view has been fetched again by now: the spent ids are not checked against it
    await ui.page.waitForTimeout(2500);
    expect(await text('leave-problems')).toBe('');
    expect(await id('leave-ids').inputValue()).toBe('');
    expect(await id('status-line').getAttribute('class')).not.toMatch(/status-error/);
  });

  step('an error goes when the group it described changes, or when the operator edits the input', async () => {
    const [planned, elsewhere, later] = [members[1]!, members[2]!, members[3]!];
    await id('leave-ids').fill(String(planned));
    await id('leave-make-plan').click();
    await id('leave-confirmation').fill(String(planned));
    // another operator removes a meter: the plan on this page is for an epoch gone by
    await leaveBehindThePage(elsewhere);
    await waitFor('members in the header', membersInHeader, (n) => n === FLEET - 2, 10_000);
    await id('leave-execute').click();
    await waitFor('STALE_PLAN shown', () => text('status-code'), (t) => t === 'STALE_PLAN', 10_000);
    await screenshot(ui.page, 'truth-03-stale-plan-error');
    await leaveBehindThePage(later);
    await waitFor('the error cleared by the new epoch', () => text('status-code'), (t) => t === '', 10_000);

    await id('leave-execute').click();
    await waitFor('STALE_PLAN shown again', () => text('status-code'), (t) => t === 'STALE_PLAN', 10_000);
    await id('leave-ids').fill(`${planned} `);
    expect(await text('status-code')).toBe('');
    members = members.filter((m) => ![members[0], elsewhere, later].includes(m));
  });

  step('the console killed: the header says its back end is gone, within seconds', async () => {
    const epoch = await text('header-epoch');
    await ui.stopConsole();
    const started = Date.now();
    await waitFor('unreachable in the header', () => text('header-link'), (t) => t === 'console back end unreachable', 5000, 100);
    console.log(`back end loss shown after ${Date.now() - started} ms`);
    expect(await text('back-end-alert')).toMatch(/^The console back end is unreachable since/);
    expect(await id('header-dc-queue').count()).toBe(0);
    await screenshot(ui.page, 'truth-04-back-end-unreachable');

    // restarted on the same data and port: it has a new session token, and the page says so plainly
    const restarted = await ui.startConsole();
    const back = Date.now();
    await waitFor('restart in the header', () => text('back-end-alert'), (t) => t.startsWith('The console restarted: reopen the address it printed'), 15_000, 100);
    console.log(`console restart shown ${Date.now() - back} ms after it printed its address`);
    expect(await text('header-link')).toBe('console restarted');
    await screenshot(ui.page, 'truth-05-console-restarted');

    await ui.page.goto(restarted.url);
    await waitFor('link connected', () => text('header-link'), (t) => /^DC connected/.test(t), 30_000);
    expect(await text('header-epoch')).toBe(epoch);
    expect(await membersInHeader()).toBe(FLEET - 3);
    expect(await id('back-end-alert').count()).toBe(0);
  });

  step('calls that cannot reach the console: the header says so, and the page heals by itself', async () => {
    await ui.context.setOffline(true);
    // the History screen asks for the history as it opens: that call cannot get through
    await id('nav-history').click();
    await waitFor('unreachable in the header', () => text('header-link'), (t) => t === 'console back end unreachable', 5000, 100);
    expect(await text('status-code')).toBe('UNREACHABLE');
    await ui.context.setOffline(false);
    const started = Date.now();
    await waitFor('link back in the header', () => text('header-link'), (t) => /^DC connected/.test(t), 10_000, 100);
    console.log(`recovered ${Date.now() - started} ms after the network came back`);
    // the failed call's error described a back end that answers again
    await waitFor('the UNREACHABLE error gone', () => text('status-code'), (t) => t === '', 5000, 100);
    // what failed to load while it was unreachable is asked again: commission, three leaves, a command
    await waitFor('history fetched again', () => text('history-count'), (t) => Number(t.split(' ')[0]) >= 5, 10_000);
    await screenshot(ui.page, 'truth-06-healed');
  });
});
