import type { CampaignSummary } from '../../preload/api.js';
import type { DcLink } from '../link/client.js';
import type { DcReport, MeterReport } from '../link/messages.js';
import { FirmwareService } from '../ops/firmware.js';
import { KeyManagerService } from '../ops/service.js';
import type { KmStore } from '../store/index.js';
import { escapeControl } from '../text/escape.js';

/**
 * The services one DC link carries: the Key Manager service and, beside it, the firmware service whose
 * campaigns wrap their key frame under the group's KG. Opened together on connect, closed together.
 */

export interface DcServices {
  readonly service: KeyManagerService;
  readonly firmware: FirmwareService;
  /** stops listening to the link, then closes both services; the link belongs to the caller */
  close(): void;
}

export interface DcServicesOptions {
  readonly store: KmStore;
  readonly group: string;
  readonly actor: string;
  readonly ackTimeout?: number | undefined;
  /** the demo vendor key the embedded meters trust */
  readonly vendorKey?: Uint8Array | undefined;
  /** models whose meters decode erasure-coded repair, with their generation size (the embedded simulator's) */
  readonly erasureModels?: Readonly<Partial<Record<string, number>>> | undefined;
  /** meter reports arrived: the group view may have changed */
  readonly onReport: (reports: readonly MeterReport[]) => void;
  readonly onProgress: (campaign: CampaignSummary) => void;
  /** the catch-up after connecting sent what an earlier session left unacknowledged */
  readonly onCaughtUp: () => void;
}

export function openDcServices(options: DcServicesOptions, link: DcLink): DcServices {
  const { store, group, actor, ackTimeout } = options;
  let firmware: FirmwareService | undefined;
  const service = KeyManagerService.open({
    store,
    group,
    actor,
    link,
    ...(ackTimeout !== undefined ? { ackTimeout } : {}),
    onRemoved: (meters) => void firmware?.removeMeters(meters),
  });
  const onReport = (message: DcReport) => {
    if (message.kind === 'report') options.onReport(message.reports);
  };
  link.on('message', onReport);
  const detach = () => link.off('message', onReport);
  try {
    firmware = FirmwareService.open({ store, group, actor, link, groupKey: () => service.groupKey(), onProgress: options.onProgress, erasureModels: options.erasureModels });
  } catch (error) {
    detach();
    service.close();
    throw error;
  }
  const opened = firmware;
  const services: DcServices = {
    service,
    firmware: opened,
    close() {
      detach();
      opened.close();
      service.close();
    },
  };
  try {
    // the embedded meters accept firmware signed by the demo vendor: staging trusts it too (audited once)
    if (options.vendorKey) opened.trustKey('demo vendor (simulator)', options.vendorKey);
  } catch (error) {
    services.close();
    throw error;
  }
  // repairs what an earlier session left unacknowledged; an operation the operator executes meanwhile takes it over
  // the message may quote a DC's error frame: escaped, so it cannot forge log lines or drive the terminal
  service.catchUp().then(options.onCaughtUp, (error: unknown) => console.warn(`[backend] catch-up after connect: ${escapeControl((error as Error).message)}`));
  return services;
}
