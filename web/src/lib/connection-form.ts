/**
 * An installation's connection settings as a form: one input per top-level property of the version's
 * connection schema (the field list of schema-fields.ts), read back into the `config` the API takes.
 * Secret (`writeOnly`) fields are never prefilled; left blank they are not sent, which on a change
 * keeps the stored value (the API's rule).
 */
import type { FieldError } from "./api/client";
import { isRecord, schemaView } from "./schema-fields";

export type InputKind = "string" | "number" | "integer" | "boolean" | "enum" | "json";

export type ConnectionField = {
  name: string;
  kind: InputKind;
  required: boolean;
  secret: boolean;
  description: string | null;
  /** The schema's default as the dashboard shows it, or null. */
  defaultValue: string | null;
  /** Enum members, each with the JSON text it is selected by. */
  options: Array<{ key: string; label: string }>;
  /** `uri`, `email`… for the input's type. */
  format: string | null;
  schema: Record<string, unknown>;
};

/** Input values by field name: text for most kinds, a boolean for checkboxes. */
export type FormValues = Record<string, string | boolean>;

function kindOf(schema: Record<string, unknown>): InputKind {
  if (Array.isArray(schema.enum)) return "enum";
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => t !== "null");
  if (type === "string" || type === "number" || type === "integer" || type === "boolean") return type;
  return "json";
}

type Described = Pick<ConnectionField, "name" | "required" | "secret" | "description" | "defaultValue">;

/** The top-level properties as the marketplace's field table describes them (or plainly, when it shows JSON). */
function described(schema: Record<string, unknown>, properties: Record<string, unknown>): Described[] {
  const view = schemaView(schema);
  if (view.kind === "fields") return view.fields.filter((field) => field.depth === 0);
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  return Object.entries(properties).map(([name, own]) => {
    const property = isRecord(own) ? own : {};
    return {
      name,
      required: required.has(name),
      secret: property.writeOnly === true,
      description: typeof property.description === "string" ? property.description : null,
      defaultValue: "default" in property ? (JSON.stringify(property.default) ?? null) : null,
    };
  });
}

/** The top-level fields of a connection schema; nested ones are edited as JSON in their parent. */
export function connectionFields(schema: unknown): ConnectionField[] {
  if (!isRecord(schema) || !isRecord(schema.properties)) return [];
  const properties = schema.properties;
  return described(schema, properties).map((field) => {
    const own = properties[field.name];
    const property = isRecord(own) ? own : {};
    return {
      ...field,
      kind: kindOf(property),
      options: Array.isArray(property.enum)
        ? property.enum.map((value) => {
            const key = JSON.stringify(value) ?? "null";
            return { key, label: typeof value === "string" ? value : key };
          })
        : [],
      format: typeof property.format === "string" ? property.format : null,
      schema: property,
    };
  });
}

function shown(field: ConnectionField, value: unknown): string | boolean {
  if (field.kind === "boolean") return value === true;
  if (value === undefined || value === null) return "";
  if (field.kind === "enum") return JSON.stringify(value) ?? "";
  if (field.kind === "json") return JSON.stringify(value, null, 2) ?? "";
  return String(value);
}

/**
 * The form's first values: the stored settings when changing an installation, else the schema's
 * defaults. Secrets start blank either way.
 */
export function initialValues(fields: ConnectionField[], stored?: Record<string, unknown>): FormValues {
  return Object.fromEntries(
    fields.map((field) => {
      if (field.secret) return [field.name, ""];
      const value = stored ? stored[field.name] : field.schema.default;
      return [field.name, shown(field, value)];
    }),
  );
}

/** Fresh values for another version's fields, keeping what was typed into the fields both have. */
export function carryOver(fresh: FormValues, typed: FormValues): FormValues {
  return Object.fromEntries(
    Object.entries(fresh).map(([key, value]) => [
      key,
      Object.hasOwn(typed, key) ? (typed[key] ?? value) : value,
    ]),
  );
}

/** The `config` to send, or the fields that could not be read (not a number, not JSON). */
export function collectSettings(
  fields: ConnectionField[],
  values: FormValues,
): { config: Record<string, unknown>; problems: Record<string, string> } {
  const config: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.name];
    if (field.kind === "boolean") {
      config[field.name] = value === true;
      continue;
    }
    const text = typeof value === "string" ? value : "";
    // Blank is "not set": the server applies the required rule, and a blank secret keeps its value.
    if (text.trim() === "") continue;
    switch (field.kind) {
      case "number":
      case "integer": {
        const n = Number(text);
        if (Number.isNaN(n)) problems[field.name] = "must be a number";
        else config[field.name] = n;
        break;
      }
      case "enum":
      case "json":
        try {
          config[field.name] = JSON.parse(text);
        } catch {
          problems[field.name] = "must be valid JSON";
        }
        break;
      default:
        config[field.name] = text;
    }
  }
  return { config, problems };
}

/**
 * A 422's `errors` sorted by where they belong: `config.x…` next to setting `x`, the body's own
 * fields (`name`, `version`, `plugin`) under their names, the rest (`config` as a whole) apart.
 */
export function sortErrors(errors: FieldError[]): {
  settings: Record<string, string[]>;
  body: Record<string, string[]>;
  other: FieldError[];
} {
  const settings: Record<string, string[]> = {};
  const body: Record<string, string[]> = {};
  const other: FieldError[] = [];
  const add = (to: Record<string, string[]>, key: string, message: string) => {
    to[key] = [...(Object.hasOwn(to, key) ? (to[key] ?? []) : []), message];
  };
  for (const error of errors) {
    const setting = /^config\.([^.[]+)/.exec(error.path)?.[1];
    if (setting) {
      // A problem inside the setting's value keeps its path below the setting (`items[0]: …`).
      const rest = error.path.slice(`config.${setting}`.length).replace(/^\./, "");
      add(settings, setting, rest ? `${rest}: ${error.message}` : error.message);
    } else if (/^(name|version|plugin)$/.test(error.path)) add(body, error.path, error.message);
    else other.push(error);
  }
  return { settings, body, other };
}
