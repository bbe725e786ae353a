/**
 * Which methods a path answers to, from the app's own route table: a known path asked with another
 * verb gets 405 with `Allow` (API.md), an unknown path 404.
 */
type Route = { path: string; method: string };

function toPattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) =>
      segment.startsWith(":")
        ? "[^/]+"
        : segment === "*"
          ? ".*"
          : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  return new RegExp(`^${source}/?$`);
}

export function methodIndex(routes: ReadonlyArray<Route>): (path: string) => string[] {
  const compiled = routes
    .filter((r) => r.method !== "ALL" && !r.path.endsWith("*"))
    .map((r) => ({ method: r.method, pattern: toPattern(r.path) }));
  return (path) => [...new Set(compiled.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
}
