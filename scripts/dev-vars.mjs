// Writes .dev.vars on first start: the AES-GCM master key, an Ed25519 signing key pair and the
// local-only network switch. Existing files are left alone so data stays decryptable across restarts.

import { webcrypto } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

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

/**
 * The quota vars wrangler.toml declares under [vars] (worker/config.ts `quotasOf` reads them), with
 * their defaults there. Read from the file so a quota added there is honoured here without an edit.
 * @returns {Map<string, string>}
 */
export function declaredQuotaVars(config = "wrangler.toml") {
  const declared = new Map();
  if (!existsSync(config)) return declared;
  let inVars = false;
  for (const line of readFileSync(config, "utf8").split("\n")) {
    const table = /^\s*\[+\s*([^\]]+?)\s*\]+/.exec(line);
    if (table) {
      inVars = table[1] === "vars";
      continue;
    }
    const entry = inVars && /^\s*(QUOTA_[A-Z0-9_]+)\s*=\s*"?([^"#\s]*)"?/.exec(line);
    if (entry?.[1]) declared.set(entry[1], entry[2] ?? "");
  }
  return declared;
}

/**
 * The QUOTA_* variables of the environment, checked: each must be a quota wrangler.toml declares and
 * a positive integer (digits only). Unset (or empty) ones keep wrangler.toml's value. `vars` go to
 * `wrangler dev` as `--var NAME:VALUE` (see `varArgs`), which wins over [vars] and .dev.vars, for
 * this run only: nothing is written, so unsetting one brings wrangler.toml's value back.
 * @param {Record<string, string | undefined>} [env]
 * @param {Map<string, string>} [declared]
 * @returns {{ vars: Record<string, string>, errors: string[] }}
 */
export function quotaVarsFromEnv(env = process.env, declared = declaredQuotaVars()) {
  /** @type {Record<string, string>} */
  const vars = {};
  const errors = [];
  const known = [...declared.keys()].join(", ");
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("QUOTA_") || value === undefined || value === "") continue;
    if (!declared.has(name)) {
      errors.push(`${name} is not a quota of wrangler.toml [vars] (the quotas are ${known}).`);
      continue;
    }
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
      errors.push(
        `${name} must be a positive integer, not ${JSON.stringify(value)} (unset it for wrangler.toml's ${declared.get(name)}).`,
      );
      continue;
    }
    vars[name] = String(n);
  }
  return { vars, errors };
}

/**
 * `wrangler dev` arguments that set plain-text vars of the first (main) Worker.
 * @param {Record<string, string>} vars
 */
export function varArgs(vars) {
  return Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
}
