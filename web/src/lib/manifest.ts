/**
 * A published manifest as the plugin page shows it. The marketplace contract types it as `unknown`
 * (the platform keeps whatever the plugin published), so each field is read defensively here.
 */
import { isRecord } from "./schema-fields";

export type OperatorView = {
  name: string;
  kind: "action" | "sensor" | string;
  description: string;
  timeout: string | null;
  input: unknown;
  output: unknown;
};

export type ManifestView = {
  name: string;
  version: string;
  title: string;
  description: string;
  categories: string[];
  /** Only inline images (`data:image/…`): the dashboard never loads a third party's picture. */
  icon: string | null;
  /** Only http(s) links. */
  homepage: string | null;
  connection: unknown;
  operators: OperatorView[];
};

const str = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);

function httpUrl(value: unknown): string | null {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function operator(value: unknown): OperatorView[] {
  if (!isRecord(value) || typeof value.name !== "string") return [];
  return [
    {
      name: value.name,
      kind: str(value.kind, "action"),
      description: str(value.description),
      timeout: typeof value.timeout === "string" ? value.timeout : null,
      input: value.input,
      output: value.output,
    },
  ];
}

export function readManifest(value: unknown): ManifestView {
  const m = isRecord(value) ? value : {};
  const icon = str(m.icon);
  return {
    name: str(m.name),
    version: str(m.version),
    title: str(m.title),
    description: str(m.description),
    categories: Array.isArray(m.categories) ? m.categories.filter((c) => typeof c === "string") : [],
    icon: icon.startsWith("data:image/") ? icon : null,
    homepage: httpUrl(m.homepage),
    connection: m.connection,
    operators: Array.isArray(m.operators) ? m.operators.flatMap(operator) : [],
  };
}
