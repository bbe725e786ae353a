/** Catalog entry for the core plugin; the operators live one per file in `operators/`. */
import { definePlugin } from "@updraft/plugin-sdk";
import { fail } from "./operators/fail.ts";
import { http } from "./operators/http.ts";
import { httpSensor } from "./operators/http-sensor.ts";
import { noop } from "./operators/noop.ts";
import { sleep } from "./operators/sleep.ts";
import { transform } from "./operators/transform.ts";

// A small inline icon, so the marketplace never depends on a third-party host for it.
const ICON =
  "data:image/svg+xml;base64," +
  btoa(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path fill="none" stroke="#2563eb" ' +
      'stroke-width="2" stroke-linecap="round" d="M4 16c3-6 6-9 8-9s5 3 8 9M12 7V3M8 21h8"/></svg>',
  );

export const core = definePlugin({
  name: "core",
  version: "1.1.0",
  title: "Core",
  description:
    "Built-in operators: HTTP requests, an HTTP sensor, JSONata transforms, sleeps, no-ops and deliberate failures.",
  categories: ["core", "utility"],
  icon: ICON,
  homepage: "https://github.com/updraft/updraft/tree/main/plugins/core",
  operators: [http, httpSensor, transform, noop, sleep, fail],
});
