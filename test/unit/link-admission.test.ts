import { describe, expect, it } from 'vitest';
import { HandshakeSlots, sourceOf } from '../../main/link/admission.js';

/** Connections are named by where they come from and their rank, e.g. 'A7'. */
function arrive(slots: HandshakeSlots<string>, names: readonly string[], address: (name: string) => string): string[] {
  return names.flatMap((name) => slots.accepted(name, address(name)) ?? []);
}
const flood = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const addressOf = (name: string) => (name.startsWith('KM') ? '10.0.0.2' : '10.0.0.66');

describe('handshake slots', () => {
  it('drops nothing while each stage is within its limit, and a freed slot is reused', () => {
    const slots = new HandshakeSlots<string>(3);
    expect(arrive(slots, ['A0', 'A1', 'A2'], addressOf)).toEqual([]);
    slots.remove('A1');
    expect(arrive(slots, ['A3'], addressOf)).toEqual([]);
    expect(slots.count('awaitingHello')).toBe(3);
  });

  it('drops the oldest silent connection of the busiest source first; a KM at another address survives any flood', () => {
    const slots = new HandshakeSlots<string>(4);
    expect(arrive(slots, ['A0', 'KM', 'A1', 'A2'], addressOf)).toEqual([]);
    expect(arrive(slots, flood('B', 1_000), addressOf)).toEqual(['A0', 'A1', 'A2', ...flood('B', 997)]);
    expect(slots.greeted('KM')).toBeUndefined();
  });

  it('from one address, drops the oldest: a KM survives while fewer than the limit arrive after it', () => {
    const slots = new HandshakeSlots<string>(4);
    const everyone = () => '127.0.0.1';
    arrive(slots, flood('A', 10), everyone);
    expect(arrive(slots, ['KM', 'B0', 'B1', 'B2'], everyone)).toEqual(['A6', 'A7', 'A8', 'A9']);
    expect(arrive(slots, ['B3'], everyone)).toEqual(['KM']);
  });

  it('keeps a handshake under way apart: silent connections never displace one that said hello, hellos only each other', () => {
    const slots = new HandshakeSlots<string>(2);
    arrive(slots, ['KM'], addressOf);
    expect(slots.greeted('KM')).toBeUndefined();
    expect(arrive(slots, flood('A', 50), addressOf)).toEqual(flood('A', 48));
    expect(slots.count('awaitingProof')).toBe(1);
    // two stranger hellos: the stage is over its limit, and the busiest source loses its oldest, not the KM
    expect(slots.greeted('A48')).toBeUndefined();
    expect(slots.greeted('A49')).toBe('A48');
    expect([slots.count('awaitingHello'), slots.count('awaitingProof')]).toEqual([0, 2]);
    expect(slots.greeted('unknown')).toBeUndefined();
  });

  it('breaks a tie between equally busy sources by age', () => {
    const slots = new HandshakeSlots<string>(2);
    expect(arrive(slots, ['x', 'y', 'z'], (name) => `192.0.2.${name.charCodeAt(0)}`)).toEqual(['x']);
  });
});

describe('the source of an address', () => {
  it('is an IPv4 address as it is, also when mapped into IPv6', () => {
    expect(sourceOf('127.0.0.1')).toBe('127.0.0.1');
    expect(sourceOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(sourceOf('::FFFF:192.0.2.7')).toBe('192.0.2.7');
  });

  it('is the /64 of an IPv6 address, however it is written', () => {
    const source = '2001:db8:0:1::/64';
    for (const address of ['2001:db8:0:1::1', '2001:0db8:0000:0001:ffff:ffff:ffff:fffe', '2001:DB8:0:1:0:0:0:9', '2001:db8::1:0:0:0:5', '2001:db8:0:1::a%eth0']) {
      expect(sourceOf(address)).toBe(source);
    }
    expect(sourceOf('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64');
    expect(sourceOf('::1')).toBe('0:0:0:0::/64');
    expect(sourceOf('fe80::1')).toBe('fe80:0:0:0::/64');
    expect(sourceOf('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
  });
});
