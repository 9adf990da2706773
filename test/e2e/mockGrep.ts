/**
 * A stand-in `window.grep` for the screens-only e2e (screens.e2e.ts): installed with
 * page.addInitScript, so it must be self-contained (Playwright serialises its source). It lets the
 * screens be driven at 10^5 members without a back end; the real flows run in console.e2e.ts.
 */
/** `records`: that many History and audit rows, some with hundreds of meters in a result or detail (records.e2e.ts); 40 and 500 plain ones without it */
export function installMockGrep(options: { readonly members: number; readonly records?: number }): void {
  type Listener = (event: unknown) => void;
  const listeners = new Set<Listener>();
  const emit = (event: unknown) => listeners.forEach((l) => l(event));
  const now = () => new Date().toISOString();
  let state: 'new' | 'locked' | 'ready' = 'new';
  let epoch = 7;
  const group = () => ({ id: 1, name: 'north-substation', epoch, members: members.filter((m) => m.status === 'member').length, subgroupCap: 64, kmPublicKey: 'ab'.repeat(32) });
  const syncs = ['in sync', 'in sync', 'in sync', 'in sync', 'lagging', 'unreachable'] as const;
  const members = Array.from({ length: options.members }, (_, i) => ({
    meterId: 1000 + i,
    serial: i === 3 ? 'SN,"quoted"' : `SN-${String(1000 + i).padStart(7, '0')}`,
    model: i % 7 === 0 ? 'GX-220' : 'GX-110',
    subgroup: Math.floor(i / 64),
    position: i % 64,
    joinedEpoch: 1 + (i % 5),
    removedEpoch: i % 97 === 5 ? 6 : null,
    status: i % 97 === 5 ? 'left' : 'member',
    sync: i % 97 === 5 ? 'removed' : syncs[i % syncs.length]!,
    ackedEpoch: i % 6 === 5 ? null : 7,
    lastAck: i % 6 === 5 ? null : '2026-11-25T03:00:00Z',
  }));
  const cost = (m: number) => ({ grep: { broadcasts: 2, unicasts: 1, bytes: 420 }, basic: { broadcasts: 0, unicasts: m, bytes: m * 90 }, lkh: { broadcasts: 1, unicasts: 0, bytes: 32 * Math.ceil(Math.log2(m + 2)) * 3 } });
  let link = { profile: undefined as string | undefined, state: 'disconnected', detail: undefined as string | undefined, since: now(), pending: 0, dc: undefined as unknown, bitRate: undefined as number | undefined };
  const profiles: unknown[] = [{ name: 'bench-dc', transport: 'tcp', host: '127.0.0.1', port: 4059 }];
  const plans = new Map<string, { operation: string; affected: number[]; departed: number[]; confirmation: string | undefined }>();
  let planSeq = 0;
  /** meters in the suspicion record: a recovery adds its suspects, a re-seed empties it */
  let record = 0;
  const plainLeave = { broadcasts: 2, unicasts: 0, bytes: 320 };
  const recordLeave = () => ({ broadcasts: 2 + record, unicasts: 3 * record, bytes: 320 + 300 * record });
  const plan = (operation: string, affected: number[], confirmation: string | undefined, rejected: { line: number; reason: string }[] = [], extra: Record<string, unknown> = {}) => {
    const id = `plan-${++planSeq}`;
    plans.set(id, { operation, affected, departed: (extra.departed as number[] | undefined) ?? [], confirmation });
    return { id, operation, epoch: epoch + 1, affected, messages: { rekey: 2, welcome: affected.length }, broadcasts: 2, unicasts: affected.length, bytes: 420 + 90 * affected.length, costs: cost(members.length), rejected, recordAdds: undefined, departed: [], commissioning: undefined, confirmation, ...extra };
  };
  const commissioning = (count: number) => ({
    method: 'reseed',
    options: [
      { method: 'reseed', broadcasts: 1, unicasts: count, bytes: 140 * count + 4 * count },
      { method: 'joins', broadcasts: 2 * count, unicasts: count, bytes: 1200 * count },
    ],
  });
  const campaigns: any[] = [];
  const fail = (code: string, message: string) => Promise.reject(Object.assign(new Error(message), { code }));
  const records = options.records;
  /** 412 meters from the i-th on, every 50th missing: ranges with gaps */
  const manyMeters = (i: number) => members.slice(i % 100, (i % 100) + 430).map((m) => m.meterId).filter((id) => id % 50 !== 0).slice(0, 412);
  const history = Array.from({ length: records ?? 40 }, (_, i) => ({ id: i + 1, planId: `p${i}`, operation: ['commission', 'leave', 'periodic', 'recover'][i % 4]!, epochFrom: i, epochTo: i + 1, messages: { rekey: 2, welcome: i }, bytes: 400 + i * 50, actor: 'operator', startedAt: now(), finishedAt: now(), durationMs: 120 + i * 30, result: i === 3 ? 'failed' : records !== undefined && i % 25 === 4 ? `unreachable: ${manyMeters(i).join(' ')}` : 'ok' }));
  const auditRow = (i: number) =>
    records !== undefined && i % 10 === 1
      ? { actor: i % 20 === 1 ? 'technician' : 'operator', action: 'execute', detail: JSON.stringify({ plan: `p${i}`, operation: 'commission', meters: manyMeters(i), note: i === 1 ? '=HYPERLINK("http://x")\u001b' : undefined }) }
      : { actor: 'operator', action: ['unlock', 'commission', 'leave'][i % 3]!, detail: JSON.stringify({ meters: [i], epoch: i }) };
  const api = {
    appInfo: async () => ({ name: 'grep-key-manager', version: '0.1.0', protocolVersion: 1 }),
    session: async () => ({ state, storePath: '/tmp/mock/store.db', simulated: true, group: state === 'ready' ? group() : undefined }),
    unlock: async (p: string) => {
      if (p !== 'correct horse') return fail('WRONG_PASSPHRASE', 'the passphrase does not open this store');
      state = 'ready';
      return api.session();
    },
    dcProfiles: async () => profiles,
    saveDcProfile: async (p: any) => {
      const { pairingKey: _drop, ...view } = p;
      profiles.push(view);
      return profiles;
    },
    serialPorts: async () => [{ path: '/dev/ttyUSB0', manufacturer: 'FTDI', serialNumber: 'A10K3', vendorId: '0403', productId: '6001' }],
    connect: async (name: string) => {
      link = { profile: name, state: 'connected', detail: undefined, since: now(), pending: 0, dc: { meters: members.length, queued: 3, epoch, airtimeSeconds: 12.5 }, bitRate: 100_000 };
      setTimeout(() => emit({ type: 'link', link }), 10);
      return link;
    },
    disconnect: async () => {
      link = { ...link, state: 'disconnected', detail: 'serial port /dev/ttyUSB0: permission denied — add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in again', dc: undefined };
      emit({ type: 'link', link });
      return link;
    },
    linkState: async () => link,
    group: async () => ({ group: group(), members }),
    history: async () => history,
    costChart: async () => ({ members: members.length, join: cost(1), leave: cost(members.length), recover3: { ...cost(members.length), grep: { broadcasts: 6, unicasts: 0, bytes: 2500 } } }),
    planCommission: async (ms: any[]) => plan('commission', ms.map((m) => m.id), undefined, [], { commissioning: commissioning(ms.length) }),
    planCommissionCsv: async (csv: string) => {
      const lines = csv.split('\n').filter((l) => /^\d/.test(l));
      return plan('commission', lines.map((l) => Number(l.split(',')[0])), undefined, [{ line: 3, reason: 'nodeKey is not 32 hex digits' }], { commissioning: commissioning(lines.length) });
    },
    planLeave: async (ids: number[]) => plan('leave', ids, ids.join(' '), [], record === 0 ? {} : { recordAdds: { ...recordLeave(), bytes: recordLeave().bytes - plainLeave.bytes, broadcasts: record, entries: record } }),
    planRecover: async (ids: number[]) => {
      const left = new Set(members.filter((m) => m.status === 'left').map((m) => m.meterId));
      return plan('recover', ids.filter((i) => !left.has(i)), group().name, [], { departed: ids.filter((i) => left.has(i)) });
    },
    planReseed: async () => plan('reseed', [], group().name, [], { messages: { ROSTER: 1, SEED: members.length }, broadcasts: 1, unicasts: members.length, bytes: 144 * members.length }),
    leaveCost: async (departed?: number[]) => ({ meter: members[70]!.meterId, record, plain: plainLeave, now: record === 0 ? plainLeave : recordLeave(), withSuspects: { ...recordLeave(), bytes: recordLeave().bytes + 300 * (departed?.length ?? 0) } }),
    suspectDeparted: async (ids: number[], o: any) => {
      if (o.confirmation !== ids.join(' ')) return fail('CONFIRMATION', 'type the meter ids');
      record += ids.length;
      emit({ type: 'history' });
      return { suspected: ids, record };
    },
    planCommand: async (r: any) => (r.meters === 'all' ? plan('command', members.filter((m) => m.status === 'member').map((m) => m.meterId), group().name) : plan('command', r.meters, undefined)),
    execute: async (planId: string, o: any) => {
      const p = plans.get(planId);
      if (!p) return fail('STALE_PLAN', 'no such plan');
      if (p.confirmation !== undefined && o.confirmation !== p.confirmation) return fail('CONFIRMATION', 'confirmation does not match');
      record = p.operation === 'reseed' ? 0 : p.operation === 'recover' ? record + p.affected.length + p.departed.length : record;
      emit({ type: 'progress', planId, message: 'rekey broadcast handed to the DC' });
      await new Promise((r) => setTimeout(r, 50));
      emit({ type: 'progress', planId, message: `acks ${p.affected.length}/${p.affected.length}` });
      epoch += 1;
      emit({ type: 'group', epoch });
      emit({ type: 'history' });
      return { planId, epochFrom: epoch - 1, epoch, converged: true, unreachable: [], resyncs: 0 };
    },
    executeCommand: async (planId: string, o: any) => {
      const p = plans.get(planId)!;
      if (p.confirmation !== undefined && o.confirmation !== p.confirmation) return fail('CONFIRMATION', 'confirmation does not match');
      return { planId, seq: 4, action: 'open', confirmed: p.affected.slice(1), missing: p.affected.slice(0, 1), resends: 2 };
    },
    runningOperations: async () => [],
    simulatedFleetCsv: async () => 'id,serial,model,nodeKey\n' + members.slice(0, 300).map((m) => `${m.meterId},${m.serial.replace(/[,"]/g, '')},${m.model},${'00'.repeat(16)}`).join('\n'),
    trustedKeys: async () => [{ label: 'demo vendor', publicKey: 'cd'.repeat(32), addedAt: now() }],
    trustKey: async (label: string, publicKey: string) => [{ label, publicKey, addedAt: now() }],
    modelTrust: async () => [{ model: 'GX-110', members: 2000, keys: [{ label: 'demo vendor', publicKey: 'cd'.repeat(32), addedAt: now() }] }],
    trustKeyForModel: async (input: { model: string; publicKey: string; label?: string }) => [{ model: input.model, members: 2000, keys: [{ label: input.label ?? 'demo vendor', publicKey: input.publicKey, addedAt: now() }] }],
    stageFirmware: async () => {
      const manifest = { vendor: 'Acme', model: 'GX-110', version: '2.1.0', sequence: 5, size: 65_536, digest: 'ef'.repeat(32) };
      const checks = ['format', 'signature', 'size', 'digest', 'model', 'sequence'].map((check) => ({ check, status: 'passed', detail: `${check} ok` }));
      return { checks, manifest, staged: { id: 1, manifest, packageDigest: '12'.repeat(32), stagedAt: now() }, warnings: [] };
    },
    firmwarePackages: async () => [{ id: 1, manifest: { vendor: 'Acme', model: 'GX-110', version: '2.1.0', sequence: 5, size: 65_536, digest: 'ef'.repeat(32) }, packageDigest: '12'.repeat(32), stagedAt: now() }],
    pushFirmware: async (input: any) => {
      const c = { id: campaigns.length + 1, packageId: input.packageId, manifest: { vendor: 'Acme', model: 'GX-110', version: '2.1.0', sequence: 5, size: 65_536, digest: 'ef'.repeat(32) }, status: 'distributed', blockSize: 256, totalBlocks: 256, round: 2, counts: { pending: 0, receiving: 1, verified: 8, activated: 0, failed: 1 }, meters: 10, sentBytes: 700_000, createdAt: now(), blocksAcknowledged: 2300, onAir: { frames: 40, aired: 40, dcQueueSeconds: 0 }, note: undefined };
      campaigns.push(c);
      setTimeout(() => emit({ type: 'campaign', campaign: c }), 10);
      return c;
    },
    campaigns: async () => campaigns,
    campaign: async (id: number) => ({ ...campaigns[id - 1], perMeter: members.slice(0, 10).map((m, i) => ({ meterId: m.meterId, state: i === 0 ? 'failed' : i === 1 ? 'receiving' : 'verified', received: i === 1 ? 100 : 256, reason: i === 0 ? 'digest mismatch' : undefined, version: '1.0.0' })) }),
    pauseCampaign: async (id: number) => campaigns[id - 1],
    resumeCampaign: async (id: number) => campaigns[id - 1],
    cancelCampaign: async (id: number) => Object.assign(campaigns[id - 1], { status: 'cancelled' }),
    activateCampaign: async (id: number, o: any) => (o.confirmation === String(id) ? Object.assign(campaigns[id - 1], { status: 'completed' }) : fail('CONFIRMATION', 'type the campaign id')),
    auditLog: async () => Array.from({ length: records ?? 500 }, (_, i) => ({ id: i + 1, at: now(), ...auditRow(i), hash: (i.toString(16) + 'a'.repeat(64)).slice(0, 64) })),
    verifyAudit: async () => ({ ok: true, rows: 500 }),
    subscribe: (listener: Listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  (globalThis as unknown as { grep: unknown }).grep = api;
}
