/**
 * What a tenant's pipelines can name in `uses:`: the first-party plugins (usable without installing)
 * and each installation, with the operators of the version it runs. Read from the marketplace's
 * stored manifests, as the server resolves `uses:` at save time.
 */
import { errorMessage } from "./api/client";
import { installations } from "./api/installations";
import { marketplace } from "./api/marketplace";
import { type OperatorView, readManifest } from "./manifest";

export type OperatorSource = {
  /** What `uses:` names: the installation's name, or the first-party plugin's. */
  name: string;
  plugin: string;
  version: string;
  firstParty: boolean;
  operators: OperatorView[];
  /** Why the operators could not be read (a version no longer visible), or null. */
  problem: string | null;
};

/** `uses: name/operator@^major`, the range the dashboard suggests. */
export function usesLine(source: Pick<OperatorSource, "name" | "version">, operator: string): string {
  return `${source.name}/${operator}@^${source.version.split(".")[0] || "1"}`;
}

export async function usableOperators(tenant: string): Promise<OperatorSource[]> {
  const [listed, installed] = await Promise.all([
    marketplace.list({ limit: 100 }),
    installations.list(tenant),
  ]);
  const taken = new Set(installed.items.map((i) => i.name));
  const firstParty = listed.items.filter((p) => p.publisher === "updraft" && !taken.has(p.name));
  const [own, theirs] = await Promise.all([
    Promise.all(
      firstParty.map(async (plugin): Promise<OperatorSource> => {
        const page = await marketplace.get(plugin.name);
        const manifest = readManifest(page.manifest);
        return {
          name: plugin.name,
          plugin: plugin.name,
          version: page.latest_version,
          firstParty: true,
          operators: manifest.operators,
          problem: null,
        };
      }),
    ),
    Promise.all(
      installed.items.map(async (installation): Promise<OperatorSource> => {
        const { name, plugin, version } = installation;
        const source: OperatorSource = {
          name,
          plugin,
          version,
          firstParty: false,
          operators: [],
          problem: null,
        };
        try {
          const stored = await marketplace.version(plugin, version);
          return { ...source, operators: readManifest(stored.manifest).operators };
        } catch (error) {
          return { ...source, problem: errorMessage(error) };
        }
      }),
    ),
  ]);
  return [...own, ...theirs];
}
