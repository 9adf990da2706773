/**
 * The simulated Data Concentrator: serves the KM over the authenticated link (TCP and/or serial) and
 * relays to a fleet of simulated meters in real time. Started by sim/main.ts, by tests, and embedded
 * in the console.
 */
import { writeFileSync } from 'node:fs';
import { nodeCrypto, nodeRandom } from '../main/crypto/node.js';
import { DcEndpoint } from '../main/link/endpoint.js';
import { readPublicKey } from '../main/firmware/keys.js';
import { escapeControl } from '../main/text/escape.js';
import { DEFAULT_RUNNING_SEQUENCE, DEMO_VENDOR_KEY_PATH, type SimArgs } from './args.js';
import { Channel } from './channel.js';
import { DataConcentrator } from './dc.js';
import { Fleet } from './fleet.js';

export interface RunningSimulator {
  /** the current one: reboot() replaces it */
  readonly endpoint: DcEndpoint;
  readonly dc: DataConcentrator;
  readonly fleet: Fleet;
  /**
   * The DC restarts as the KM sees it: the link drops, and the DC listens again on the same address
   * after `downMs`, remembering no transfer id. The meters are devices of their own and keep their state.
   */
  reboot(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSimulator(args: SimArgs, log: (line: string) => void = () => undefined): Promise<RunningSimulator> {
  // a hand-built SimArgs gets what the flags default to
  const firmware = {
    running: { version: 'factory', sequence: args['running-sequence'] ?? DEFAULT_RUNNING_SEQUENCE },
    vendorKeys: [args['vendor-key'] ?? readPublicKey(DEMO_VENDOR_KEY_PATH), ...(args['trust-key'] ?? [])],
  };
  const fleet = new Fleet({ seed: args.seed, meters: args.meters, groupId: args.group, kmPublicKey: args['km-public-key'], crypto: nodeCrypto, model: args.model, firmware });
  if (args['fleet-out']) writeFileSync(args['fleet-out'], fleet.toCsv());
  const channel = new Channel({ bitRate: args.rate, latency: args.latency / 1000, loss: args.loss, seed: args.seed, clock: 'realtime' });
  let endpoint: DcEndpoint | undefined;
  const dc = new DataConcentrator({ channel, meters: fleet.meters, send: (message) => endpoint!.send(message), statusSeconds: 5 });
  const listen = async (tcp: SimArgs['tcp']): Promise<DcEndpoint> => {
    const created = new DcEndpoint({
      pairingKey: args['pairing-key'],
      onTransfer: (transfer) => dc.handle(transfer),
      tcp,
      serial: args.serial ? { path: args.serial, baudRate: args.baud } : undefined,
      crypto: nodeCrypto,
      random: nodeRandom,
    });
    // a reason may quote the peer's error frame: escaped, so it cannot forge log lines or drive the terminal
    created.on('state', (state) => log(`link ${state.state} ${state.peer}${'reason' in state ? `: ${escapeControl(state.reason.message)}` : ''}`));
    endpoint = created;
    await created.start();
    return created;
  };
  const first = await listen(args.tcp);
  log(`simulated DC: ${args.meters} meters${args.model ? ` (${args.model})` : ''}, loss ${args.loss}, ${args.rate} bit/s, latency ${args.latency} ms` +
    `${first.tcpPort !== undefined ? `, tcp ${args.tcp!.host}:${first.tcpPort}` : ''}${args.serial ? `, serial ${args.serial}` : ''}, ${firmware.vendorKeys.length} firmware key(s) trusted`);
  return {
    get endpoint() {
      return endpoint!;
    },
    dc,
    fleet,
    async reboot(downMs = 0) {
      const port = endpoint!.tcpPort;
      await endpoint!.close();
      log('simulated DC rebooting');
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await listen(args.tcp && { host: args.tcp.host, port: port ?? args.tcp.port });
    },
    async close() {
      dc.close();
      await endpoint!.close();
    },
  };
}
