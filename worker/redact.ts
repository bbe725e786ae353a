/**
 * Hiding secret values in text the platform keeps or shows (task outputs and logs, a plugin's
 * connection-test detail). One rule: values shorter than 4 characters are left alone (masking "a"
 * would garble everything), and a value is caught raw and in its JSON-escaped form.
 */

/** Replaces every secret value (raw or JSON-escaped) in a text with `mask`. */
export function redact(text: string, secrets: readonly unknown[], mask = "***"): string {
  let out = text;
  for (const value of secrets) {
    if (typeof value !== "string" || value.length < 4) continue;
    out = out.split(value).join(mask);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) out = out.split(escaped).join(mask);
  }
  return out;
}
