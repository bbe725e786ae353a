/**
 * Where the http operator may not go. A Worker has no DNS API, so only what the URL itself says can
 * be checked: IP literals and well-known internal names. Hostnames that resolve to private
 * addresses are stopped by Cloudflare's egress in production (see README).
 */
import { parseIPv4, parseIPv6, privateIPv4, privateIPv6 } from "./ip.ts";

// Names that never mean a public host: RFC 6761/6762/8375 special-use (`.arpa` holds `home.arpa` and
// reverse-DNS names), ICANN's private-use `.internal`, the names ICANN will not delegate because
// private networks already use them (`.corp`, `.home`) and common LAN suffixes.
const INTERNAL_SUFFIXES = [
  ...[".localhost", ".local", ".internal", ".arpa", ".test", ".invalid"],
  ...[".localdomain", ".lan", ".home", ".corp"],
];
const INTERNAL_NAMES = new Set(["localhost", "metadata", "metadata.google.internal", "instance-data"]);

/** Why `url` is refused, or null when it may be fetched. */
export function refusalFor(url: URL): string | null {
  if (url.protocol !== "http:" && url.protocol !== "https:") return `only http and https URLs are allowed`;
  // Trailing dots name the same host ("localhost." and "localhost.." are localhost).
  const host = url.hostname.toLowerCase().replace(/\.+$/, "");
  const v6 = host.startsWith("[") ? parseIPv6(host) : null;
  if (host.startsWith("[")) {
    if (!v6) return `${host} is not a valid IPv6 address`;
    const reason = privateIPv6(v6);
    return reason ? `${host} is a ${reason} address` : null;
  }
  const v4 = parseIPv4(host);
  if (v4) {
    const reason = privateIPv4(v4);
    return reason ? `${host} is a ${reason} address` : null;
  }
  if (INTERNAL_NAMES.has(host) || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    return `${host} is an internal host name`;
  }
  // Single-label names only resolve through local search domains, i.e. to internal hosts.
  if (!host.includes(".")) return `${host} is not a fully qualified host name`;
  return null;
}

/** The private-network switch: on for local development only. */
export function privateNetworkAllowed(env: { readonly UPDRAFT_ALLOW_PRIVATE_NETWORK?: unknown }): boolean {
  return env.UPDRAFT_ALLOW_PRIVATE_NETWORK === "true";
}
