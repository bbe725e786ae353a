/**
 * `@updraft/plugin-sdk/network` — the private-network rule: which URLs a plugin's HTTP calls, and the
 * platform's own fetches of publication URLs, may not reach. One rule for `core/http` and the
 * marketplace, so a URL refused by one is refused by the other; and the outbound helpers every
 * connector uses (the rule as an assertion, answers read within a limit). No Workers or Node APIs.
 */
export { privateNetworkAllowed, refusalFor } from "./destination.ts";
export { parseIPv4, parseIPv6, privateIPv4, privateIPv6 } from "./ip.ts";
export {
  assertPublicDestination,
  readBytesCapped,
  readJsonCapped,
  readTextCapped,
  TooLargeError,
} from "./outbound.ts";
