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
  readonly endpoint: DcEndpoint;
  readonly dc: DataConcentrator;
  readonly fleet: Fleet;
  close(): Promise<void>;
}

export async function startSimulator(args: SimArgs, log: (line: string) => void = () => undefined): Promise<RunningSimulator> {
  // a hand-built SimArgs gets what the flags default to
  const firmware = {
    running: { version: 'factory', sequence: args['running-sequence'] ?? DEFAULT_RUNNING_SEQUENCE },
    vendorKeys: [args['vendor-key'] ?? readPublicKey(DEMO_VENDOR_KEY_PATH)],
  };
  const fleet = new Fleet({ seed: args.seed, meters: args.meters, groupId: args.group, kmPublicKey: args['km-public-key'], crypto: nodeCrypto, model: args.model, firmware });
  if (args['fleet-out']) writeFileSync(args['fleet-out'], fleet.toCsv());
  const channel = new Channel({ bitRate: args.rate, latency: args.latency / 1000, loss: args.loss, seed: args.seed, clock: 'realtime' });
  let endpoint: DcEndpoint | undefined;
  const dc = new DataConcentrator({ channel, meters: fleet.meters, send: (message) => endpoint!.send(message), statusSeconds: 5 });
  endpoint = new DcEndpoint({
    pairingKey: args['pairing-key'],
    onTransfer: (transfer) => dc.handle(transfer),
    tcp: args.tcp,
    serial: args.serial ? { path: args.serial, baudRate: args.baud } : undefined,
    crypto: nodeCrypto,
    random: nodeRandom,
  });
  // a reason may quote the peer's error frame: escaped, so it cannot forge log lines or drive the terminal
  endpoint.on('state', (state) => log(`link ${state.state} ${state.peer}${'reason' in state ? `: ${escapeControl(state.reason.message)}` : ''}`));
  await endpoint.start();
  log(`simulated DC: ${args.meters} meters${args.model ? ` (${args.model})` : ''}, loss ${args.loss}, ${args.rate} bit/s, latency ${args.latency} ms` +
    `${endpoint.tcpPort !== undefined ? `, tcp ${args.tcp!.host}:${endpoint.tcpPort}` : ''}${args.serial ? `, serial ${args.serial}` : ''}`);
  return {
    endpoint,
    dc,
    fleet,
    async close() {
      dc.close();
      await endpoint!.close();
    },
  };
}
