import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listSerialPorts } from '../../main/link/transport.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A /dev with two USB adapters, one of them behind a by-id link, and a tty that is no adapter. */
function fakeDev(): string {
  const dev = mkdtempSync(join(tmpdir(), 'grep-dev-'));
  dirs.push(dev);
  for (const name of ['ttyUSB0', 'ttyACM1', 'tty0', 'ttyS0']) writeFileSync(join(dev, name), '');
  mkdirSync(join(dev, 'serial', 'by-id'), { recursive: true });
  symlinkSync(join(dev, 'ttyUSB0'), join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_A10K3-if00-port0'));
  return dev;
}

describe('serial port listing', () => {
  it('finds the USB adapters by name where the enumeration fails (spawn udevadm ENOENT), one entry per device', async () => {
    const dev = fakeDev();
    const failing = async () => {
      throw Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' });
    };
    const ports = await listSerialPorts({ list: failing, devDir: dev });
    expect(ports.map((port) => port.path)).toEqual([join(dev, 'serial', 'by-id', 'usb-FTDI_FT232R_A10K3-if00-port0'), join(dev, 'ttyACM1')]);
  });

  it('keeps what the enumeration says about a port and adds only devices it did not list', async () => {
    const dev = fakeDev();
    const listed = [{ path: join(dev, 'ttyUSB0'), manufacturer: 'FTDI', serialNumber: 'A10K3', vendorId: '0403', productId: '6001' }];
    const ports = await listSerialPorts({ list: async () => listed, devDir: dev });
    expect(ports).toEqual([{ ...listed[0] }, { path: join(dev, 'ttyACM1') }]);
  });
});
