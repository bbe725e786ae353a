/** Shapes of the marketplace routes (API.md "Marketplace and installations"). */
import { z } from "zod";

export const Visibility = z.enum(["public", "private"]);

export const PublicationBody = z.strictObject({
  /** The plugin's base URL: `{url}/manifest` is fetched and checked. */
  url: z.string().min(1).max(2048),
  /** Who can see and install the plugin; a first publication without one is private to the tenant. */
  visibility: Visibility.optional(),
});

export const Published = z.object({
  name: z.string(),
  version: z.string(),
  /** True when this exact manifest was already published as this version: nothing changed. */
  unchanged: z.boolean(),
});

export const MarketplaceQuery = z.object({
  q: z.string().max(100).optional(),
  category: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(100).optional(),
});

export const PluginSummary = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  categories: z.array(z.string()),
  latest_version: z.string(),
  /** The publishing tenant's slug, or "updraft" for first-party plugins. */
  publisher: z.string(),
  visibility: Visibility,
});

/** A publisher's change to one of its plugins: its visibility, any time, without a new version. */
export const PluginPatch = z.strictObject({ visibility: Visibility });

export const PluginList = z.object({ items: z.array(PluginSummary), next_cursor: z.string().nullable() });

export const PluginPage = PluginSummary.extend({
  versions: z.array(z.object({ version: z.string(), published_at: z.string() })),
  /** The latest version's manifest: operators with their input and output schemas, the connection schema. */
  manifest: z.unknown(),
});

export const PluginVersionView = z.object({
  version: z.string(),
  published_at: z.string(),
  manifest: z.unknown(),
});

/** Connection settings: secret (`writeOnly`) fields are sent in clear and answered masked. */
const Settings = z.record(z.string(), z.unknown());

export const InstallBody = z.strictObject({
  plugin: z.string().min(1).max(64),
  /** An exact published version; the latest by default. */
  version: z.string().min(1).max(128).optional(),
  /** What `uses` names; the plugin's name by default. Install a plugin twice under two names. */
  name: z.string().min(1).max(63).optional(),
  config: Settings.default({}),
});

export const InstallationPatch = z.strictObject({
  version: z.string().min(1).max(128).optional(),
  /** Plain fields as a whole; a secret left out (or sent masked) keeps its value, `null` clears it. */
  config: Settings.optional(),
});

export const Installation = z.object({
  id: z.string(),
  name: z.string(),
  plugin: z.string(),
  version: z.string(),
  config: Settings,
  created_at: z.string(),
  updated_at: z.string(),
});

export const InstallationList = z.object({ items: z.array(Installation) });

export const ConnectionTested = z.object({ ok: z.boolean(), detail: z.string() });
