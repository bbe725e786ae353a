/**
 * JSON with object keys sorted at every level, so two specs that differ only in key order (or in YAML
 * vs JSON formatting) serialize identically; the API compares versions this way.
 * Follows JSON.stringify otherwise: `toJSON` is honoured, undefined/functions/symbols are dropped from
 * objects and become null in arrays, non-finite numbers become null. A top-level value that JSON
 * cannot represent yields "null", so the result is always a string.
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return serialize(value) ?? "null";
}

function serialize(value: unknown): string | undefined {
  const v = hasToJson(value) ? value.toJSON() : value;
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
    case "boolean":
      return JSON.stringify(v);
    case "number":
      return Number.isFinite(v) ? JSON.stringify(v) : "null";
    case "bigint":
      // JSON.stringify throws on bigint; a decimal string keeps the value comparable instead.
      return JSON.stringify(v.toString());
    case "object":
      return Array.isArray(v) ? serializeArray(v) : serializeObject(v);
    default:
      return undefined;
  }
}

function serializeArray(items: readonly unknown[]): string {
  return `[${items.map((item) => serialize(item) ?? "null").join(",")}]`;
}

function serializeObject(obj: object): string {
  const entries: string[] = [];
  const record = obj as Record<string, unknown>;
  // Code-unit order (the default sort) is locale-independent, so output never depends on the runtime.
  for (const key of Object.keys(record).sort()) {
    const item = serialize(record[key]);
    if (item !== undefined) entries.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${entries.join(",")}}`;
}

function hasToJson(value: unknown): value is { toJSON(): unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON === "function"
  );
}
