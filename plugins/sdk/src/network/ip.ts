/**
 * Classifying IP literals. Hostnames reach us already normalised by the WHATWG URL parser: IPv4 in
 * decimal, hex or octal forms (`2130706433`, `0x7f.1`, `0177.0.0.1`) is rewritten to dotted quad,
 * and IPv6 to its compressed lower-case form, so these parsers only need the canonical shapes.
 */

export function parseIPv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN));
  return bytes.every((byte) => byte >= 0 && byte <= 255) ? bytes : null;
}

/** 16 bytes, or null. Accepts `::` compression and a trailing dotted IPv4 (`::ffff:1.2.3.4`). */
export function parseIPv6(host: string): number[] | null {
  let text = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (!text.includes(":") || text.includes("%")) return null;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = parseIPv4(dotted[1]);
    if (!v4) return null;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves[1] ? halves[1].split(":") : [];
  const present = head.length + rest.length;
  if (halves.length === 1 ? present !== 8 : present > 7) return null;
  const bytes: number[] = [];
  for (const group of [...head, ...Array<string>(8 - present).fill("0"), ...rest]) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = Number.parseInt(group, 16);
    bytes.push(value >> 8, value & 0xff);
  }
  return bytes;
}

type Range = [prefix: number[], bits: number, label: string];

function inRange(bytes: readonly number[], [prefix, bits]: Range): boolean {
  for (let bit = 0; bit < bits; bit++) {
    const byte = Math.floor(bit / 8);
    const mask = 0x80 >> (bit % 8);
    if (((bytes[byte] ?? 0) & mask) !== ((prefix[byte] ?? 0) & mask)) return false;
  }
  return true;
}

const PRIVATE_V4: Range[] = [
  [[0], 8, "this-network"],
  [[10], 8, "private"],
  [[100, 64], 10, "carrier-grade NAT"],
  [[127], 8, "loopback"],
  [[169, 254], 16, "link-local / cloud metadata"],
  [[172, 16], 12, "private"],
  [[192, 0, 0], 24, "IETF protocol assignments"],
  [[192, 168], 16, "private"],
  [[192, 0, 2], 24, "documentation"],
  [[192, 88, 99], 24, "deprecated 6to4 relay"],
  [[198, 18], 15, "benchmarking"],
  [[198, 51, 100], 24, "documentation"],
  [[203, 0, 113], 24, "documentation"],
  [[168, 63, 129, 16], 32, "cloud metadata"],
  [[224], 4, "multicast"],
  [[240], 4, "reserved"],
];

// Named ranges, for a clear refusal; anything else outside 2000::/3 is refused as not global unicast.
const PRIVATE_V6: Range[] = [
  [[], 127, "unspecified or loopback"],
  [[0, 0x64, 0xff, 0x9b, 0, 0x01], 48, "local-use NAT64"],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, "discard-only"],
  [[0x20, 0x01, 0, 0], 32, "Teredo"],
  [[0x20, 0x01], 23, "IETF protocol assignments"],
  [[0x20, 0x01, 0x0d, 0xb8], 32, "documentation"],
  [[0x3f, 0xff], 20, "documentation"],
  [[0x5f, 0x00], 16, "SRv6 segment identifier"],
  [[0xfc], 7, "unique-local"],
  [[0xfe, 0x80], 10, "link-local"],
  [[0xfe, 0xc0], 10, "site-local"],
  [[0xff], 8, "multicast"],
];

const GLOBAL_UNICAST: Range = [[0x20], 3, "global unicast"];

// Prefixes whose last 32 bits (or bytes 2..5 for 6to4) are an IPv4 address that reaches that host;
// such an address is exactly as private as the IPv4 address inside it.
const EMBEDS_V4: Array<[Range, (bytes: number[]) => number[]]> = [
  [[[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], 96, "IPv4-mapped"], (b) => b.slice(12)],
  [[[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0], 96, "IPv4-translated"], (b) => b.slice(12)],
  [[[], 96, "IPv4-compatible"], (b) => b.slice(12)],
  [[[0, 0x64, 0xff, 0x9b], 96, "NAT64"], (b) => b.slice(12)],
  [[[0x20, 0x02], 16, "6to4"], (b) => b.slice(2, 6)],
];

/** Why this IPv4 address is not a public destination, or null when it is one. */
export function privateIPv4(bytes: readonly number[]): string | null {
  return PRIVATE_V4.find((range) => inRange(bytes, range))?.[2] ?? null;
}

/** Why this IPv6 address is not a public destination, or null when it is one. */
export function privateIPv6(bytes: number[]): string | null {
  const own = PRIVATE_V6.find((range) => inRange(bytes, range));
  if (own) return own[2];
  const embedding = EMBEDS_V4.find(([range]) => inRange(bytes, range));
  if (embedding) {
    const [range, extract] = embedding;
    const inner = privateIPv4(extract(bytes));
    return inner ? `${range[2]} ${inner}` : null;
  }
  // Only 2000::/3 is allocated for global unicast; the rest is reserved or special-purpose.
  return inRange(bytes, GLOBAL_UNICAST) ? null : "reserved (not global unicast)";
}
