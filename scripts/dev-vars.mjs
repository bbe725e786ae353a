// Writes .dev.vars on first start: the AES-GCM master key, an Ed25519 signing key pair and the
// local-only network switch. Existing files are left alone so data stays decryptable across restarts.

import { webcrypto } from "node:crypto";
import { existsSync, readdirSync, writeFileSync } from "node:fs";

export async function newSecrets() {
  const master = webcrypto.getRandomValues(new Uint8Array(32));
  const pair = await webcrypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const jwk = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  const kid = `k${Date.now().toString(36)}`;
  return {
    MASTER_KEY: Buffer.from(master).toString("base64"),
    SIGNING_KEY: JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d, kid }),
  };
}

export async function ensureDevVars(path = ".dev.vars") {
  if (existsSync(path)) return false;
  const secrets = await newSecrets();
  const lines = [
    "# Generated on first start. Keep it: the master key decrypts stored secrets.",
    `MASTER_KEY=${secrets.MASTER_KEY}`,
    `SIGNING_KEY='${secrets.SIGNING_KEY}'`,
    "UPDRAFT_ALLOW_PRIVATE_NETWORK=true",
    "",
  ];
  writeFileSync(path, lines.join("\n"), { mode: 0o600 });
  return true;
}

/** Plugin Workers read their own .dev.vars: locally they may call private and loopback addresses. */
export function ensurePluginDevVars(root = "plugins") {
  if (!existsSync(root)) return;
  for (const name of readdirSync(root)) {
    const dir = `${root}/${name}`;
    if (existsSync(`${dir}/wrangler.toml`) && !existsSync(`${dir}/.dev.vars`)) {
      writeFileSync(`${dir}/.dev.vars`, "UPDRAFT_ALLOW_PRIVATE_NETWORK=true\n");
    }
  }
}
