/** The destination guard, run inside workerd so URL normalisation is the runtime's own. */

import { refusalFor } from "@updraft/plugin-sdk/network";
import { describe, expect, it } from "vitest";

const refused = (url: string) => refusalFor(new URL(url));

describe("private-network guard", () => {
  it.each([
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://127.0.0.1./",
    "http://0.0.0.0/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[fd00::1]/",
    "http://[fc00::abcd]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[2002:c0a8:0101::1]/",
    "http://[fd00:ec2::254]/",
    "http://localhost/",
    "http://LOCALHOST:8080/",
    "http://api.localhost/",
    "http://localhost./",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://printer.local/",
    "http://intranet/",
  ])("refuses %s", (url) => {
    expect(refused(url)).not.toBeNull();
  });

  it.each([
    "https://api.github.com/repos",
    "http://93.184.215.14/",
    "http://8.8.8.8/",
    "http://172.32.0.1/",
    "http://[2606:4700:4700::1111]/",
    "http://[::ffff:8.8.8.8]/",
    "https://hooks.slack.com/services/x",
  ])("allows %s", (url) => {
    expect(refused(url)).toBeNull();
  });
});
