/** The `updraft-plugin-core` Worker: the built-in operators every tenant gets. */
import { toWorker } from "../../sdk/src/index.ts";
import { core } from "./plugin.ts";

export default toWorker<Env>(core);
