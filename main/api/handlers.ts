import { z } from 'zod';
import type { CallName, GrepApi } from '../../preload/api.js';
import type { Backend } from '../app/backend.js';
import { PUBLIC_KEY_BYTES } from '../grep/index.js';
import { PROTOCOL_VERSION } from '../grep/wire.js';
import { COMMISSION_LIMIT, CommissionInput } from '../ops/planning.js';

/**
 * The back end of every call of preload/api.ts, free of Electron: the desktop shell serves it over
 * IPC (main/ipc), the headless console over HTTP (main/console). Both validate arguments here, so a
 * hostile caller meets the same checks whichever door it knocks on.
 */
export type Handler<C extends CallName> = (...args: Parameters<GrepApi[C]>) => ReturnType<GrepApi[C]>;
export type Handlers = { readonly [C in CallName]: Handler<C> };

const MiB = 1024 * 1024;
/** a 16 MiB firmware package in base64, with room to spare */
export const MAX_FIRMWARE_BASE64_CHARS = 24 * MiB;
const MAX_METERS = 100_000;

const u32 = z.number().int().min(0).max(0xffffffff);
const meterId = z.number().int().min(1, 'meter ids start at 1').max(0xffffffff);
const meterIds = z.array(meterId).min(1, 'give at least one meter').max(MAX_METERS);
const name = z.string().trim().min(1, 'must not be empty').max(64, 'at most 64 characters');
const hex = (bytes: readonly number[], what: string) =>
  z.string().regex(new RegExp(`^(?:${bytes.map((count) => `[0-9a-fA-F]{${count * 2}}`).join('|')})$`), `${what} must be ${bytes.join(' or ')} bytes as hex`);
const pairingKey = hex([16, 32], 'the pairing key');
const base64 = z
  .string()
  .max(MAX_FIRMWARE_BASE64_CHARS, `a firmware package is at most ${MAX_FIRMWARE_BASE64_CHARS} base64 characters`)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'the package must be base64')
  .refine((text) => text.length % 4 === 0, 'the package must be base64 (length a multiple of 4)');

const DcProfileInput = z.discriminatedUnion('transport', [
  z.object({ name, transport: z.literal('tcp'), host: z.string().regex(/^[A-Za-z0-9.:[\]-]{1,253}$/, 'host must be a host name or an IP address'), port: z.number().int().min(1).max(65_535), pairingKey }).strict(),
  z.object({ name, transport: z.literal('serial'), path: z.string().min(1).max(4096).regex(/^[^\0]+$/, 'no NUL in a path'), baud: z.number().int().min(50).max(4_000_000), pairingKey }).strict(),
]);
const ConfirmOptions = z.object({ confirmation: z.string().max(4096).optional() }).strict();
const ExecuteOptions = ConfirmOptions.extend({ acceptRejected: z.boolean().optional() }).strict();
const CommandRequestInput = z.object({ action: z.enum(['open', 'close']), meters: z.union([z.literal('all'), meterIds]) }).strict();
const PushInput = z.object({ packageId: u32, meters: meterIds.optional(), blockSize: z.number().int().min(16).max(65_535).optional() }).strict();
const ModelTrustInput = z.object({ model: z.string().min(1).max(255), publicKey: hex([PUBLIC_KEY_BYTES], 'an Ed25519 public key'), label: name.optional() }).strict();
const planId = z.string().uuid('a plan id is a UUID');
const MemberDetailOptions = z.object({ offset: u32.optional() }).strict();
const none = z.tuple([]);
const one = <T extends z.ZodType>(schema: T) => z.tuple([schema]);

/** Argument schemas, one per call: what crosses the boundary is checked before any handler runs. */
const ARGUMENTS: { readonly [C in CallName]: z.ZodType<Parameters<GrepApi[C]>> } = {
  appInfo: none,
  session: none,
  unlock: one(z.string().min(1, 'give the passphrase').max(1024, 'at most 1024 characters')),
  dcProfiles: none,
  saveDcProfile: one(DcProfileInput),
  serialPorts: none,
  connect: one(name),
  disconnect: none,
  linkState: none,
  group: none,
  history: none,
  costChart: none,
  memberDetail: z.union([one(meterId), z.tuple([meterId, MemberDetailOptions])]),
  planCommission: one(z.array(CommissionInput).min(1).max(COMMISSION_LIMIT.listMeters, `at most ${COMMISSION_LIMIT.listMeters} meters in a list: give a larger fleet as a CSV`)),
  // the service refuses a CSV over COMMISSION_LIMIT (TOO_LARGE) before it reads a line, for every door alike
  planCommissionCsv: one(z.string()),
  planLeave: one(meterIds),
  planRecover: one(meterIds),
  planReseed: none,
  planResync: one(meterIds),
  // no argument, or a non-empty list: an explicit undefined (null over HTTP) is refused
  leaveCost: z.union([none, one(meterIds)]),
  suspectDeparted: z.tuple([meterIds, ConfirmOptions]),
  planCommand: one(CommandRequestInput),
  execute: z.tuple([planId, ExecuteOptions]),
  executeCommand: z.tuple([planId, ConfirmOptions]),
  runningOperations: none,
  simulatedFleetCsv: none,
  trustedKeys: none,
  trustKey: z.tuple([name, hex([PUBLIC_KEY_BYTES], 'an Ed25519 public key')]),
  modelTrust: none,
  trustKeyForModel: one(ModelTrustInput),
  stageFirmware: one(base64),
  firmwarePackages: none,
  pushFirmware: one(PushInput),
  campaigns: none,
  campaign: one(u32),
  pauseCampaign: one(u32),
  resumeCampaign: one(u32),
  cancelCampaign: one(u32),
  activateCampaign: z.tuple([u32, ConfirmOptions]),
  auditLog: none,
  verifyAudit: none,
};

export class ApiError extends Error {
  constructor(
    readonly code: 'UNKNOWN_CALL' | 'BAD_ARGUMENTS',
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function createHandlers(options: { readonly app: { readonly name: string; readonly version: string }; readonly backend: Backend }): Handlers {
  const { backend } = options;
  const { actions, firmwareCalls: firmware } = backend;
  return {
    appInfo: async () => ({ name: options.app.name, version: options.app.version, protocolVersion: PROTOCOL_VERSION }),
    session: () => backend.session(),
    unlock: (passphrase) => backend.unlock(passphrase),
    dcProfiles: () => backend.dcProfiles(),
    saveDcProfile: (profile) => backend.saveDcProfile(profile),
    serialPorts: () => backend.serialPorts(),
    connect: (profile) => backend.connect(profile),
    disconnect: () => backend.disconnect(),
    linkState: () => backend.linkState(),
    group: () => backend.group(),
    history: () => backend.history(),
    costChart: () => backend.costChart(),
    memberDetail: (meterId, detailOptions) => backend.memberDetail(meterId, detailOptions),
    planCommission: (meters) => actions.planCommission(meters),
    planCommissionCsv: (csv) => actions.planCommissionCsv(csv),
    planLeave: (meters) => actions.planLeave(meters),
    planRecover: (suspected) => actions.planRecover(suspected),
    planReseed: () => actions.planReseed(),
    planResync: (meters) => actions.planResync(meters),
    leaveCost: (departed) => actions.leaveCost(departed),
    suspectDeparted: (meters, confirmOptions) => actions.suspectDeparted(meters, confirmOptions),
    planCommand: (request) => actions.planCommand(request),
    execute: (planId, executeOptions) => actions.execute(planId, executeOptions),
    executeCommand: (planId, confirmOptions) => actions.executeCommand(planId, confirmOptions),
    runningOperations: async () => actions.runningOperations(),
    simulatedFleetCsv: () => backend.simulatedFleetCsv(),
    trustedKeys: () => firmware.trustedKeys(),
    trustKey: (label, publicKey) => firmware.trustKey(label, publicKey),
    modelTrust: () => firmware.modelTrust(),
    trustKeyForModel: (input) => firmware.trustKeyForModel(input),
    stageFirmware: (packageBase64) => firmware.stageFirmware(packageBase64),
    firmwarePackages: () => firmware.firmwarePackages(),
    pushFirmware: (input) => firmware.pushFirmware(input),
    campaigns: () => firmware.campaigns(),
    campaign: (id) => firmware.campaign(id),
    pauseCampaign: (id) => firmware.pauseCampaign(id),
    resumeCampaign: (id) => firmware.resumeCampaign(id),
    cancelCampaign: (id) => firmware.cancelCampaign(id),
    activateCampaign: (id, confirmOptions) => firmware.activateCampaign(id, confirmOptions),
    auditLog: () => backend.auditLog(),
    verifyAudit: () => backend.verifyAudit(),
  };
}

export function isCallName(name: string): name is CallName {
  return Object.hasOwn(ARGUMENTS, name);
}

/** Validates `args` for `call` and runs its handler; unknown calls and bad arguments get an ApiError. */
export function invoke(handlers: Handlers, call: string, args: unknown): Promise<unknown> {
  if (!isCallName(call)) return Promise.reject(new ApiError('UNKNOWN_CALL', `no call named ${JSON.stringify(call.slice(0, 64))}`));
  const parsed = ARGUMENTS[call].safeParse(args);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
    return Promise.reject(new ApiError('BAD_ARGUMENTS', `${call}: ${issues.slice(0, 5).join('; ')}`));
  }
  try {
    return (handlers[call] as (...a: unknown[]) => Promise<unknown>)(...(parsed.data as unknown[]));
  } catch (error) {
    return Promise.reject(error);
  }
}

export interface Failure {
  readonly code: string;
  readonly message: string;
}

/** Any failure as the transports send it: the typed code of the layer that refused, and its operator message. */
export function toFailure(error: unknown): Failure {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : 'FAILED', message: typeof message === 'string' ? message : String(error) };
}
