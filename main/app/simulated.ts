import type { SimArgs } from '../../sim/args.js';
import { METER_MODELS } from '../../sim/fleet.js';
import { type RunningSimulator, startSimulator } from '../../sim/simulator.js';
import type { GroupRecord } from '../store/index.js';

/**
 * The embedded simulated DC of a demo session (no --dc): a real DC endpoint over TCP on the loopback
 * interface, in this process, whose meters know the group's KM public key. One model for the whole
 * fleet so a firmware campaign reaches every meter.
 */
export interface SimulatedDc {
  readonly meters: number;
  readonly loss: number;
  /** bit/s on the simulated medium */
  readonly rate: number;
  readonly seed: number;
  readonly model: string;
}

export const SIMULATED_DEFAULTS: SimulatedDc = { meters: 200, loss: 0.01, rate: 100_000, seed: 1, model: METER_MODELS[0] };

export const SIMULATED_PROFILE = 'simulated DC';

/** `vendorKey`: the firmware signing key the meters trust (the KM trusts the same one). */
export function startEmbeddedSimulator(options: SimulatedDc, group: GroupRecord, pairingKey: Uint8Array, vendorKey: Uint8Array): Promise<RunningSimulator> {
  const args: SimArgs = {
    meters: options.meters,
    tcp: { host: '127.0.0.1', port: 0 },
    serial: undefined,
    baud: 115_200,
    'pairing-key': pairingKey,
    'km-public-key': group.publicKey,
    group: group.id,
    loss: options.loss,
    rate: options.rate,
    latency: 20,
    seed: options.seed,
    'fleet-out': undefined,
    model: options.model,
    'vendor-key': vendorKey,
  };
  return startSimulator(args);
}
