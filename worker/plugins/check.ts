/**
 * The save-time checks that need the installed plugins (DESIGN.md §3): every task's `uses` names an
 * installed plugin, one of its operators, and a version range the plugin's version satisfies; its
 * `with` fits the operator's input schema as far as it is literal. They run after the pure spec
 * validation passed, and report Issues in its terms so the API renders them the same way.
 */
import { type Issue, type PipelineSpec, parseUses } from "../engine";
import type { PluginCatalog } from "./catalog";
import { literalInputIssues } from "./inputs";

export function checkOperators(spec: PipelineSpec, catalog: PluginCatalog): Issue[] {
  const tasks = spec.tasks.map((task, i) => ({ task, i, uses: parseUses(task.uses) }));
  const issues: Issue[] = [];
  for (const { task, i, uses } of tasks) {
    // Validation already refused a malformed `uses`; there is nothing to look up.
    if (!uses) continue;
    const at = ["tasks", i, "uses"];
    const resolved = catalog.resolve(uses.plugin, uses.operator, uses.range);
    switch (resolved.kind) {
      case "not_installed":
        issues.push({ path: at, message: `plugin "${uses.plugin}" is not installed` });
        break;
      case "mismatch": {
        const { plugin } = resolved;
        if (resolved.unknownOperator) {
          const names = plugin.operators.join(", ");
          const message = `plugin "${plugin.name}" has no operator "${uses.operator}"; its operators are: ${names}`;
          issues.push({ path: at, message });
        }
        if (resolved.unsatisfiedRange) {
          const message = `plugin "${plugin.name}" is at version ${plugin.version}, which does not satisfy "${uses.range}"`;
          issues.push({ path: at, message });
        }
        break;
      }
      case "found": {
        const input = resolved.operator.input;
        if (!input) break;
        for (const issue of literalInputIssues(task.with, input))
          issues.push({ ...issue, path: ["tasks", i, "with", ...issue.path] });
        break;
      }
      default: {
        const never: never = resolved;
        throw new Error(`unknown resolution ${JSON.stringify(never)}`);
      }
    }
  }
  return issues;
}
