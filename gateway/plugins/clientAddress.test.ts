import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClientAddressResolver, createTerritoryResolver } from './clientAddress.js';

const request = (remoteAddress: string, forwardedFor?: string | string[]): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('client address', () => {
  it('ignores X-Forwarded-For when no proxy is trusted', () => {
    const resolve = createClientAddressResolver();
    expect(resolve(request('::ffff:10.0.0.5', '203.0.113.7'))).toBe('10.0.0.5');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const resolve = createClientAddressResolver({ trustedProxies: ['10.0.0.0/8'] });
    expect(resolve(request('192.0.2.9', '203.0.113.7'))).toBe('192.0.2.9');
  });

  it('takes the rightmost untrusted hop, so a client cannot forge the entries our proxies appended', () => {
    const resolve = createClientAddressResolver({ trustedProxies: ['10.0.0.0/8', '::1'] });
    // The client claimed 1.1.1.1; the edge proxy (10.1.1.1) appended the real peer 198.51.100.2.
    expect(resolve(request('::ffff:10.0.0.5', '1.1.1.1, 198.51.100.2, 10.1.1.1'))).toBe('198.51.100.2');
    expect(resolve(request('::1', ['1.1.1.1', '2001:db8::7']))).toBe('2001:db8::7');
  });

  it('falls back to the last verified hop when the chain is all proxies or malformed', () => {
    const resolve = createClientAddressResolver({ trustedProxies: ['10.0.0.0/8'] });
    expect(resolve(request('10.0.0.5', '10.2.2.2'))).toBe('10.2.2.2');
    expect(resolve(request('10.0.0.5', 'not-an-ip, 10.2.2.2'))).toBe('10.2.2.2');
    expect(resolve(request('10.0.0.5'))).toBe('10.0.0.5');
    expect(resolve(request('10.0.0.5', `${'9.9.9.9,'.repeat(2000)}198.51.100.3`))).toBe('198.51.100.3');
  });
});

describe('territory', () => {
  const from = (remoteAddress: string, headers: Record<string, string | string[]>): IncomingMessage =>
    ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;

  it('believes the configured header only from a trusted proxy', () => {
    const resolve = createTerritoryResolver({ trustedProxies: ['10.0.0.0/8'], header: 'CF-IPCountry' });
    expect(resolve(from('::ffff:10.0.0.5', { 'cf-ipcountry': 'de' }))).toBe('DE');
    expect(resolve(from('192.0.2.9', { 'cf-ipcountry': 'DE' }))).toBeNull();
  });

  it('is null without a header setting, without trusted proxies, or for a malformed or repeated value', () => {
    expect(createTerritoryResolver({ trustedProxies: ['10.0.0.0/8'] })(from('10.0.0.5', { 'cf-ipcountry': 'DE' }))).toBeNull();
    expect(createTerritoryResolver({ header: 'cf-ipcountry' })(from('10.0.0.5', { 'cf-ipcountry': 'DE' }))).toBeNull();
    const resolve = createTerritoryResolver({ trustedProxies: ['10.0.0.0/8'], header: 'cf-ipcountry' });
    for (const value of ['DEU', 'D1', '', ['DE', 'FR']]) expect(resolve(from('10.0.0.5', { 'cf-ipcountry': value })), String(value)).toBeNull();
    expect(resolve(from('10.0.0.5', {}))).toBeNull();
  });
});
