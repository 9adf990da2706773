import type { CampaignSummary, CampaignView, ConfirmOptions, GrepEvent, ModelTrustInput, ModelTrustView, PackageView, PushInput, StagingView, TrustedKeyView } from '../../preload/api.js';
import { fromHex } from '../grep/index.js';
import type { FirmwareService } from '../ops/firmware.js';
import { activationConfirmation, requireConfirmation } from './confirmation.js';

/** The firmware page's calls over the connected FirmwareService; every campaign change is also an event. */
export class FirmwareCalls {
  constructor(
    /** the firmware service of the connected DC; throws LOCKED or NOT_CONNECTED */
    private readonly firmware: () => FirmwareService,
    private readonly emit: (event: GrepEvent) => void,
  ) {}

  async trustedKeys(): Promise<TrustedKeyView[]> {
    return this.firmware().trustedKeys();
  }

  async trustKey(label: string, publicKey: string): Promise<TrustedKeyView[]> {
    return this.firmware().trustKey(label, fromHex(publicKey));
  }

  async modelTrust(): Promise<ModelTrustView[]> {
    return this.firmware().modelTrust();
  }

  async trustKeyForModel(input: ModelTrustInput): Promise<ModelTrustView[]> {
    return this.firmware().trustKeyForModel(input.model, fromHex(input.publicKey), input.label);
  }

  async stageFirmware(packageBase64: string): Promise<StagingView> {
    return this.firmware().stage(new Uint8Array(Buffer.from(packageBase64, 'base64')));
  }

  async firmwarePackages(): Promise<PackageView[]> {
    return this.firmware().packages();
  }

  async pushFirmware(input: PushInput): Promise<CampaignSummary> {
    return this.changed(await this.firmware().push(input));
  }

  async campaigns(): Promise<CampaignSummary[]> {
    return this.firmware().campaigns();
  }

  async campaign(id: number): Promise<CampaignView> {
    return this.firmware().campaign(id);
  }

  async pauseCampaign(id: number): Promise<CampaignSummary> {
    return this.changed(await this.firmware().pause(id));
  }

  async resumeCampaign(id: number): Promise<CampaignSummary> {
    return this.changed(await this.firmware().resume(id));
  }

  async cancelCampaign(id: number): Promise<CampaignSummary> {
    return this.changed(await this.firmware().cancel(id));
  }

  /** Checked here as a leave is in actions.ts: the Activate button's typed campaign id is not enough on its own. */
  async activateCampaign(id: number, options: ConfirmOptions): Promise<CampaignSummary> {
    const firmware = this.firmware();
    requireConfirmation(activationConfirmation(id), options.confirmation, 'the id of the campaign to activate');
    return this.changed(firmware.activate(id));
  }

  private changed(campaign: CampaignSummary): CampaignSummary {
    this.emit({ type: 'campaign', campaign });
    return campaign;
  }
}
