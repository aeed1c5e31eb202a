/**
 * The client address that per-address rate limits and subgraphs see. By default the socket's peer:
 * X-Forwarded-For is a client's claim and is ignored. With trusted proxies configured, the header is
 * read right to left, skipping hops that are trusted proxies, and the first untrusted address wins
 * (as proxy-addr/express `trust proxy` do): a client can prepend anything it likes, but it cannot
 * forge the entries our own proxies appended. CIDR matching is node:net's BlockList.
 *
 * The caller's territory (for territory-restricted licences) comes the same way: from a header a
 * CDN/load balancer sets (`cf-ipcountry`), believed only when the socket peer is a trusted proxy,
 * so a client talking to the gateway directly cannot choose where it is.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { territoryOf } from '../../lib/identity.js';

export interface ClientAddressOptions {
  /** Addresses or CIDRs (`10.0.0.0/8`, `::1`) whose X-Forwarded-For is believed. @default [] */
  readonly trustedProxies?: readonly string[];
  /** Forwarded hops examined at most; a longer chain stops at the last one examined. @default 16 */
  readonly maxHops?: number;
}

export type ClientAddressResolver = (req: IncomingMessage) => string;

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `::ffff:10.0.0.1` → `10.0.0.1`, so one client has one address whichever socket family it used. */
function normalize(address: string): string {
  return MAPPED_V4.exec(address)?.[1] ?? address;
}

export function trustedMatcher(trusted: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const entry of trusted) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

export function createClientAddressResolver(options: ClientAddressOptions = {}): ClientAddressResolver {
  const trusted = options.trustedProxies ?? [];
  const maxHops = options.maxHops ?? 16;
  if (trusted.length === 0) return (req) => normalize(req.socket.remoteAddress ?? 'unknown');
  const isTrusted = trustedMatcher(trusted);

  return (req) => {
    let address = normalize(req.socket.remoteAddress ?? 'unknown');
    if (!isTrusted(address)) return address;
    const header = req.headers['x-forwarded-for'];
    if (header === undefined) return address;
    // Several headers are one list, in order (RFC 7230 §3.2.2). Bounded: only the last hops matter.
    const joined = Array.isArray(header) ? header.join(',') : header;
    const hops = joined.slice(-4096).split(',');
    if (joined.length > 4096) hops.shift(); // cut mid-hop
    for (let i = hops.length - 1, seen = 0; i >= 0 && seen < maxHops; i -= 1, seen += 1) {
      const hop = normalize(hops[i]!.trim());
      // A malformed hop cannot be attributed to anyone: stop at the last address we could verify.
      if (isIP(hop) === 0) return address;
      address = hop;
      if (!isTrusted(hop)) return hop;
    }
    return address;
  };
}

export interface TerritoryOptions {
  /** Addresses or CIDRs of the proxies allowed to say where a client is. @default [] */
  readonly trustedProxies?: readonly string[];
  /** Request header carrying the ISO 3166-1 alpha-2 code (`cf-ipcountry`); unset = no territory. */
  readonly header?: string | undefined;
}

export type TerritoryResolver = (req: IncomingMessage) => string | null;

/** The caller's territory from a trusted proxy's header, or null (unknown: territory-restricted books stay closed). */
export function createTerritoryResolver(options: TerritoryOptions = {}): TerritoryResolver {
  const header = options.header?.toLowerCase();
  const trusted = options.trustedProxies ?? [];
  if (!header || trusted.length === 0) return () => null;
  const isTrusted = trustedMatcher(trusted);
  return (req) => {
    if (!isTrusted(normalize(req.socket.remoteAddress ?? ''))) return null;
    const value = req.headers[header];
    // Repeated headers are ambiguous: refuse rather than pick one.
    return typeof value === 'string' ? territoryOf(value) : null;
  };
}
