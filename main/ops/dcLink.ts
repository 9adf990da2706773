import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import { DcLink, type DcLinkOptions } from '../link/client.js';
import { serialConnector, tcpConnector } from '../link/transport.js';
import type { DcProfile, DcProfileSummary } from '../store/index.js';

/** The KM's link to the DC of a stored profile, over the profile's transport and with its pairing key. */
export function linkToDc(profile: DcProfile, tuning: Omit<DcLinkOptions, 'connect' | 'pairingKey'> = {}): DcLink {
  const connect = profile.transport === 'tcp' ? tcpConnector({ host: profile.host, port: profile.port }) : serialConnector({ path: profile.path, baudRate: profile.baud });
  return new DcLink({ crypto: nodeCrypto, random: nodeRandom, ...tuning, connect, pairingKey: profile.pairingKey });
}

/** Where a profile's DC is, as the operator reads it in messages and the audit log. */
export const dcAddress = (profile: DcProfile | DcProfileSummary): string =>
  profile.transport === 'tcp' ? `tcp ${profile.host}:${profile.port}` : `serial ${profile.path} at ${profile.baud} baud`;
