import ipaddr from 'ipaddr.js';

/**
 * The range of an IP address as ipaddr.js names it: `unicast` for a public address, else
 * `loopback`, `private`, `linkLocal`, `carrierGradeNat`, `multicast`, `unspecified`, `broadcast`,
 * `reserved`, `uniqueLocal`, … IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-translated,
 * NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) take the category of the embedded address, so
 * `::ffff:127.0.0.1` is `loopback`. IPv4-compatible (`::a.b.c.d`, deprecated) and Teredo are never
 * public: they are reported as `ipv4Compatible` and `teredo`. Anything that does not parse is `invalid`.
 */
export function addressCategory(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return 'invalid';
  const parsed = ipaddr.parse(bare);
  if (parsed.kind() === 'ipv4') return parsed.range();
  const v6 = parsed as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) return embedded.range();
  const range = v6.range();
  if (range === 'unicast' && v6.parts.slice(0, 6).every((part) => part === 0)) return 'ipv4Compatible';
  return range;
}

/** The IPv4 address an IPv6 transition form carries (mapped, translated, NAT64 well-known prefix, 6to4). */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === 'ipv4Mapped' || range === 'rfc6145') return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === 'rfc6052' && address.parts[0] === 0x64 && address.parts[1] === 0xff9b && address.parts[2] === 0) return new ipaddr.IPv4(bytes.slice(12, 16));
  if (range === '6to4') return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

/** A parsed `SOMA_EGRESS_ALLOW`: host names, and address ranges (a single address is a /32 or /128). */
export interface EgressAllowList {
  hosts: ReadonlySet<string>;
  ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][];
}

/** Parses `SOMA_EGRESS_ALLOW` entries (already validated by the configuration). */
export function parseEgressAllowList(entries: readonly string[]): EgressAllowList {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
    if (entry === '') continue;
    if (ipaddr.isValidCIDR(entry)) ranges.push(ipaddr.parseCIDR(entry));
    else if (ipaddr.isValid(entry)) {
      const address = ipaddr.parse(entry);
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else hosts.add(entry.replace(/\.$/, ''));
  }
  return { hosts, ranges };
}

/** Whether an address falls in one of the allowed ranges (IPv4 transition forms match IPv4 ranges). */
export function inAllowedRange(address: string, ranges: EgressAllowList['ranges']): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (!ipaddr.isValid(bare)) return false;
  const parsed = ipaddr.parse(bare);
  const forms: (ipaddr.IPv4 | ipaddr.IPv6)[] = [parsed];
  if (parsed.kind() === 'ipv6') {
    const embedded = embeddedIPv4(parsed as ipaddr.IPv6);
    if (embedded) forms.push(embedded);
  }
  return ranges.some(([range, bits]) => forms.some((form) => form.kind() === range.kind() && form.match(range, bits)));
}
