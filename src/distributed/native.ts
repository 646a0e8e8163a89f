// Loads the Gloo addon (native/gloo/build/Release/ingot_gloo.node, built by scripts/build-native.mjs
// where libgloo-dev is installed). Loaded on first use only: Ingot works without it.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { IngotError } from "../tensor/index.js";

/** Start and end of one Gloo call on the communication thread (CLOCK_MONOTONIC ns, process.hrtime's clock). */
export interface CollectiveTiming {
  startNs: number;
  endNs: number;
}

type Data = Float32Array | Float64Array | Int32Array;

/** native/gloo/gloo_addon.cc's ProcessGroup: with blocking=true the JS thread waits and gets the timing. */
export interface NativeProcessGroup {
  connect(): Promise<CollectiveTiming>;
  allReduce(data: Data, op: number, blocking?: false): Promise<CollectiveTiming>;
  allReduce(data: Data, op: number, blocking: true): CollectiveTiming;
  broadcast(data: Data, root: number, blocking?: false): Promise<CollectiveTiming>;
  broadcast(data: Data, root: number, blocking: true): CollectiveTiming;
  allGather(input: Data, output: Data, blocking?: false): Promise<CollectiveTiming>;
  allGather(input: Data, output: Data, blocking: true): CollectiveTiming;
  barrier(blocking?: false): Promise<CollectiveTiming>;
  barrier(blocking: true): CollectiveTiming;
  close(): Promise<CollectiveTiming>;
  pending(): number;
}

export interface GlooAddon {
  ProcessGroup: new (opts: { rank: number; size: number; storeHost: string; storePort: number; prefix: string; hostname: string; iface: string; timeoutMs: number }) => NativeProcessGroup;
  monotonicNs(): number;
}

let addon: GlooAddon | null = null;
let failure: string | null = null;

/** Where the addon is: INGOT_GLOO_PATH, else native/gloo/build/Release in the package root. */
function addonPath(): string {
  return process.env.INGOT_GLOO_PATH?.trim() || fileURLToPath(new URL("../../../native/gloo/build/Release/ingot_gloo.node", import.meta.url));
}

/** True when the Gloo addon loads (torch.distributed.is_gloo_available()). */
export function isGlooAvailable(): boolean {
  try {
    loadGloo();
    return true;
  } catch {
    return false;
  }
}

/** The addon, or an error that says how to build it. */
export function loadGloo(): GlooAddon {
  if (addon) return addon;
  if (failure === null) {
    const path = addonPath();
    try {
      addon = createRequire(import.meta.url)(path) as GlooAddon;
      return addon;
    } catch (e) {
      failure = `${path} did not load (${(e as Error).message.split("\n")[0]})`;
    }
  }
  throw new IngotError(
    `ingot.distributed: the Gloo backend is not built: ${failure}. Install Gloo (Debian/Ubuntu: apt-get install libgloo-dev) and run 'npm rebuild ingot' (or 'node scripts/build-native.mjs')`,
  );
}
