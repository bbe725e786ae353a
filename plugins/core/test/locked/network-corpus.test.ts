/**
 * A corpus of private, loopback, metadata and internal destinations, each sent through the http
 * operator with the production switch off: the same URL parsing (zod, then WHATWG `new URL` inside
 * workerd) and the same guard a pipeline's task gets. Public ones go through the operator's own
 * parse-then-check path without a fetch, so the test needs no internet.
 */

import { refusalFor } from "@updraft/plugin-sdk/network";
import { describe, expect, it } from "vitest";
import { targetUrl } from "../../src/http/request.ts";
import { invoke } from "../helpers.ts";

const hosts = (...names: string[]) => names.map((name) => `http://${name}/`);

const REFUSED = [
  // IPv4 loopback, in every spelling the URL parser turns into 127.x.
  ...hosts("127.0.0.1", "127.1", "127.0.1", "127.255.255.254", "2130706433", "2130706433.", "0x7f000001"),
  ...hosts("0x7f.1", "0x7f.0.0.1", "0X7F.0x0.0X0.0x1", "0177.0.0.1", "0177.1", "017700000001"),
  ...hosts(
    "127.000.000.001",
    "127.0.0.1.",
    "127.0.0.1%2e",
    "１２７.０.０.１",
    "127。0。0。1",
    "0x7f.0x00.0x00.0x01",
  ),
  // "This network", private, carrier-grade NAT and cloud metadata.
  ...hosts("0.0.0.0", "0", "0x0", "0.0.0.1", "00.0.0.0", "10.0.0.1", "10.255.255.255", "012.0.0.1"),
  ...hosts("0xa.0.0.1", "167772161", "172.16.0.1", "172.31.255.255", "0xac.0x10.0.1", "2886729729"),
  ...hosts("192.168.0.1", "192.168.1.1", "3232235777", "0xc0.0xa8.1.1", "0300.0250.1.1"),
  ...hosts("100.64.0.1", "100.127.255.254", "100.100.100.200", "169.254.169.254", "169.254.0.1"),
  ...hosts("2852039166", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376", "169.254.169.254.", "168.63.129.16"),
  // IETF assignments, documentation, benchmarking, 6to4 relay, multicast, reserved, broadcast.
  ...hosts("192.0.0.192", "192.0.0.8", "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1"),
  ...hosts("198.19.255.255", "192.88.99.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255"),
  // IPv6 loopback and unspecified.
  ...hosts("[::1]", "[::]", "[0:0:0:0:0:0:0:1]", "[0000::1]", "[::0:1]", "[0:0:0:0:0:0:0:0]"),
  // IPv4-mapped, IPv4-compatible and IPv4-translated (SIIT) forms of private IPv4.
  ...hosts("[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::ffff:10.0.0.1]", "[::ffff:169.254.169.254]"),
  ...hosts("[::ffff:0.0.0.0]", "[0:0:0:0:0:ffff:127.0.0.1]", "[::ffff:192.168.1.1]", "[::FFFF:7F00:1]"),
  ...hosts("[::127.0.0.1]", "[::10.0.0.1]", "[::169.254.169.254]", "[::7f00:1]", "[::2]"),
  ...hosts("[::ffff:0:127.0.0.1]", "[::ffff:0:a9fe:a9fe]", "[::ffff:0:10.1.2.3]"),
  // NAT64 (well-known and local-use prefixes), 6to4 and Teredo.
  ...hosts("[64:ff9b::127.0.0.1]", "[64:ff9b::10.0.0.1]", "[64:ff9b::a9fe:a9fe]", "[64:ff9b:1::1]"),
  ...hosts("[64:ff9b:1::8.8.8.8]", "[2002:7f00:1::1]", "[2002:c0a8:101::1]", "[2002:a9fe:a9fe::]"),
  ...hosts("[2002:a00:1::]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "[2001::1]", "[2001:0::7f00:1]"),
  // Unique-local, link-local, site-local, multicast, discard, documentation, benchmarking, unallocated.
  ...hosts("[fc00::1]", "[fd00::1]", "[fd12:3456:789a::1]", "[fd00:ec2::254]", "[fdff:ffff::1]"),
  ...hosts("[fe80::1]", "[fe80::a9fe:a9fe]", "[febf::1]", "[fec0::1]", "[ff02::1]", "[ff05::1:3]"),
  ...hosts("[ff0e::1]", "[100::1]", "[2001:db8::1]", "[3fff::1]", "[2001:2::1]", "[4000::1]", "[5f00::1]"),
  // Local and internal names, including case, trailing dots and full-width spellings.
  ...hosts("localhost", "LOCALHOST", "LocalHost", "localhost.", "localhost..", "api.localhost"),
  ...hosts("a.b.localhost", "api.localhost.", "ｌｏｃａｌｈｏｓｔ", "localhost%2e", "localhost:8080"),
  ...hosts("metadata.google.internal", "METADATA.GOOGLE.INTERNAL", "metadata.google.internal."),
  ...hosts("metadata", "instance-data", "instance-data.ec2.internal", "ip-10-0-0-1.ec2.internal"),
  ...hosts("printer.local", "mybox.local.", "kubernetes.default.svc.cluster.local", "router.home.arpa"),
  ...hosts("host.localdomain", "1.0.0.127.in-addr.arpa", "ipv4only.arpa", "nas.lan", "server.home"),
  ...hosts("dc.corp", "intranet", "wpad", "kubernetes", "intranet.", "app.test", "site.invalid"),
  // Tricks that put a public-looking name where the host is not.
  "http://8.8.8.8@127.0.0.1/",
  "http://example.com@localhost/",
  "http://127.0.0.1\\@8.8.8.8/",
  "http://127.0.0.1#@8.8.8.8/",
  "https://169.254.169.254/latest/meta-data/",
  "https://[::ffff:169.254.169.254]:443/",
];

const ALLOWED = [
  "https://api.github.com/repos",
  "https://hooks.slack.com/services/x",
  "https://localhost.example.com/",
  "https://internal.example.com/",
  "https://printer.local.example.com/",
  "http://8.8.8.8/",
  "http://1.1.1.1/",
  "http://172.32.0.1/",
  "http://100.128.0.1/",
  "http://[2606:4700:4700::1111]/",
  "http://[2001:4860:4860::8888]/",
  "http://[::ffff:8.8.8.8]/",
  "http://[64:ff9b::8.8.8.8]/",
  "http://[2002:808:808::1]/",
];

describe("the private-network guard over a corpus (UPDRAFT_ALLOW_PRIVATE_NETWORK off)", () => {
  it("holds more than 100 destinations to refuse", () => {
    expect(new Set(REFUSED).size).toBeGreaterThanOrEqual(100);
  });

  it.each(REFUSED)("refuses %s without retry", async (url) => {
    const answer = await invoke("http", { url, timeout: "1s" });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toContain("refusing to fetch");
  });

  it.each(ALLOWED)("allows %s", (url) => {
    expect(refusalFor(targetUrl({ method: "GET", url }))).toBeNull();
  });
});
