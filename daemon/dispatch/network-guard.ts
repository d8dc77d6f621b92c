import { promises as dns, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { HooksdError, type ErrorCode } from '../common/errors.js';

/** `code` of the error `NetworkGuard.lookup` calls back with when it refuses an address. */
export const BLOCKED_CODE: ErrorCode = 'HOOKSD_ADDRESS_BLOCKED';

/**
 * Resolves a hostname to every address it has, like `dns.promises.lookup` with `all: true`.
 * `family` (0 for any) and `hints` are those the connecting socket asked for.
 */
export type Resolve = (hostname: string, options: { family: 0 | 4 | 6; hints?: number }) => Promise<LookupAddress[]>;

export interface NetworkGuardOptions {
  /** Allow every address, public or not. */
  allowPrivate: boolean;
  /** CIDRs (or single addresses) that may be contacted even though they are not public. */
  allowCidrs: readonly string[];
  /** Defaults to the system resolver (`dns.promises.lookup`); tests inject their own. */
  resolve?: Resolve;
}

const ADVICE = 'set delivery.network.allowPrivate: true or add it to delivery.network.allowCidrs to allow it';

/** A range that is not public, or that carries an IPv4 address which is checked in its place. */
interface Range {
  readonly cidr: string;
  readonly network: Uint8Array;
  readonly bits: number;
  /** Completes "ADDRESS is …". */
  readonly what: string;
  /** Where the carried IPv4 address starts, for ranges that embed one. */
  readonly ipv4At?: number;
}

const range = (cidr: string, what: string, ipv4At?: number): Range => {
  const [address, bits] = cidr.split('/');
  return { cidr, network: parseIp(address!)!, bits: Number(bits), what, ipv4At };
};

// First match wins, so narrower ranges come before the ranges that contain them.
const IPV4_RANGES: readonly Range[] = [
  range('0.0.0.0/8', 'a "this network" (unspecified) address'),
  range('10.0.0.0/8', 'a private address'),
  range('100.64.0.0/10', 'a carrier-grade NAT address'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address (cloud metadata services live here)'),
  range('172.16.0.0/12', 'a private address'),
  range('192.0.0.0/24', 'an IETF protocol assignment address'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.88.99.0/24', 'a 6to4 relay anycast address'),
  range('192.168.0.0/16', 'a private address'),
  range('198.18.0.0/15', 'a benchmarking address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('255.255.255.255/32', 'the broadcast address'),
  range('240.0.0.0/4', 'a reserved address'),
];

const IPV6_RANGES: readonly Range[] = [
  range('::/128', 'the unspecified address'),
  range('::1/128', 'a loopback address'),
  range('::ffff:0:0/96', 'an IPv4-mapped address', 12),
  range('::/96', 'an IPv4-compatible address', 12),
  range('64:ff9b::/96', 'a NAT64 address', 12),
  range('2002::/16', 'a 6to4 address', 2),
  range('100::/64', 'a discard-only address'),
  range('2001:db8::/32', 'a documentation address'),
  range('3fff::/20', 'a documentation address'),
  range('2001::/23', 'an IETF protocol assignment address'),
  range('fc00::/7', 'a unique local (private) address'),
  range('fe80::/10', 'a link-local address'),
  range('fec0::/10', 'a site-local address'),
  range('ff00::/8', 'a multicast address'),
  // Reserved by the IETF; also covers local-use NAT64 (64:ff9b:1::/48), whose layout varies.
  range('::/8', 'a reserved address'),
];

const CHECKED_URLS_LIMIT = 10_000;

/**
 * Decides which IP addresses outgoing deliveries may reach: everything public, plus
 * what `delivery.network` allows. Built once at start-up from that config slice.
 *
 * Node's http never calls `lookup` for a URL whose host is an IP literal, so a request is safe
 * only when `checkUrl` passed for its URL and `lookup` is the socket's resolver.
 */
export class NetworkGuard {
  private readonly allowPrivate: boolean;
  private readonly allowedV4 = new BlockList();
  private readonly allowedV6 = new BlockList();
  /** The resolver `lookup` uses; consumer URLs are checked ahead of delivery with it too (url-check.ts). */
  readonly resolve: Resolve;
  /** URL checks already made: the answer for a URL never changes under one guard. */
  private readonly checkedUrls = new Map<string, string | null>();
  /**
   * The settings the guard was built from, for a delivery worker to build the same guard
   * (delivery-pool.ts); undefined when a resolver was injected, which cannot cross threads.
   */
  readonly portable: { allowPrivate: boolean; allowCidrs: readonly string[] } | undefined;

  /** Throws HOOKSD_CONFIG_INVALID naming the entry when an `allowCidrs` entry is not a CIDR or address. */
  constructor(options: NetworkGuardOptions) {
    this.allowPrivate = options.allowPrivate;
    this.portable =
      options.resolve === undefined
        ? { allowPrivate: options.allowPrivate, allowCidrs: [...options.allowCidrs] }
        : undefined;
    this.resolve =
      options.resolve ?? ((hostname, lookupOptions) => dns.lookup(hostname, { ...lookupOptions, all: true }));
    options.allowCidrs.forEach((cidr, index) => this.allow(cidr, index));
  }

  /**
   * Returns null when `address` (an IPv4 or IPv6 literal, brackets and zone allowed) may be
   * contacted, else why not and which setting would allow it.
   */
  check(address: string): string | null {
    const refusal = this.refusal(address);
    return refusal === null ? null : `${address} is ${refusal}`;
  }

  /**
   * Checks a URL whose host is an IP literal (including the decimal, hex and octal IPv4 forms
   * the WHATWG parser normalises). Returns null for hostnames: those are checked by `lookup`.
   * Throws a TypeError when `url` is not a URL.
   */
  checkUrl(url: string): string | null {
    let answer = this.checkedUrls.get(url);
    if (answer === undefined) {
      const host = new URL(url).hostname;
      answer = isIP(unbracket(host)) === 0 ? null : this.check(host);
      // Consumers have a handful of URLs each (transforms may add some): bounded all the same.
      if (this.checkedUrls.size >= CHECKED_URLS_LIMIT) this.checkedUrls.clear();
      this.checkedUrls.set(url, answer);
    }
    return answer;
  }

  /**
   * A `dns.lookup` for got's `dnsLookup` or an http.Agent's `lookup`: resolves `hostname`,
   * checks every address it has and calls back with those same addresses (an array when
   * `options.all`, else the first address and its family), so the socket connects only to an
   * address that was checked. When any address is refused it calls back with an Error whose
   * `code` is `BLOCKED_CODE`; resolver errors are passed on as they are.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const family = familyNumber(options.family);
    this.resolve(hostname, { family, hints: options.hints }).then(
      (resolved) => {
        const addresses = family === 0 ? resolved : resolved.filter((entry) => entry.family === family);
        const first = addresses[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '');
          return;
        }
        for (const { address } of addresses) {
          const refusal = this.refusal(address);
          if (refusal !== null) {
            const error = new HooksdError(BLOCKED_CODE, `${hostname} resolved to ${address}, ${refusal}`);
            callback(Object.assign(error, { hostname }), '');
            return;
          }
        }
        if (options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };

  private allow(cidr: string, index: number): void {
    const [address = '', prefix, extra] = cidr.split('/');
    const family = address.includes('%') ? 0 : isIP(address);
    const maxBits = family === 4 ? 32 : 128;
    const bits = prefix === undefined ? maxBits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (family === 0 || extra !== undefined || !(bits <= maxBits)) {
      throw new HooksdError(
        'HOOKSD_CONFIG_INVALID',
        `delivery.network.allowCidrs[${index}]: "${cidr}" is not a CIDR (expected ADDRESS or ADDRESS/PREFIX, the ` +
          `prefix at most 32 for IPv4 and 128 for IPv6)`,
      );
    }
    if (family === 4) this.allowedV4.addSubnet(address, bits, 'ipv4');
    else this.allowedV6.addSubnet(address, bits, 'ipv6');
  }

  /** Null when allowed, else the rest of "ADDRESS is …". */
  private refusal(text: string): string | null {
    const bytes = parseIp(text);
    if (bytes === null) return 'not an IP address';
    if (this.allowPrivate) return null;
    if (bytes.length === 4) {
      const ipv4 = classify(bytes, IPV4_RANGES);
      return ipv4 === undefined || this.allowedV4.check(formatIpv4(bytes), 'ipv4') ? null : describe(ipv4);
    }
    if (this.allowedV6.check(unbracket(text).split('%')[0]!, 'ipv6')) return null;
    const ipv6 = classify(bytes, IPV6_RANGES);
    if (ipv6 === undefined) return null;
    if (ipv6.ipv4At === undefined) return describe(ipv6);
    // Checked as the IPv4 address it reaches, so an IPv4 allowCidrs entry covers it too.
    const carried = bytes.subarray(ipv6.ipv4At, ipv6.ipv4At + 4);
    const carriedText = formatIpv4(carried);
    const ipv4 = classify(carried, IPV4_RANGES);
    if (ipv4 === undefined || this.allowedV4.check(carriedText, 'ipv4')) return null;
    return `${ipv6.what} for ${carriedText}, ${describe(ipv4)}`;
  }
}

function describe(found: Range): string {
  return `${found.what} (${found.cidr}); ${ADVICE}`;
}

function classify(bytes: Uint8Array, ranges: readonly Range[]): Range | undefined {
  return ranges.find((candidate) => inRange(bytes, candidate));
}

function inRange(bytes: Uint8Array, { network, bits }: Range): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== network[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole]! & mask) === (network[whole]! & mask);
}

/** The 4 or 16 bytes of an IP literal (brackets and IPv6 zone allowed), or null. */
function parseIp(text: string): Uint8Array | null {
  const address = unbracket(text);
  switch (isIP(address)) {
    case 4:
      return Uint8Array.from(address.split('.'), Number);
    case 6:
      return parseIpv6(address.split('%')[0]!);
    default:
      return null;
  }
}

/** Expects text `isIP` accepted as IPv6, without a zone. */
function parseIpv6(address: string): Uint8Array {
  const lastColon = address.lastIndexOf(':');
  let text = address;
  if (address.includes('.', lastColon)) {
    const [a = 0, b = 0, c = 0, d = 0] = address
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    text = `${address.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail = ''] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  return bytes;
}

function formatIpv4(bytes: Uint8Array): string {
  return bytes.join('.');
}

export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function familyNumber(family: number | 'IPv4' | 'IPv6' | undefined): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}
