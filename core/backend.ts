/**
 * Backend selection: `auto` picks webgpu on real GPU hardware, else wasm (SIMD), else cpu.
 *
 * Deno's `navigator.gpu` may return Mesa's llvmpipe, a software rasterizer that reports itself
 * as a fallback adapter; it runs WGSL correctly but slowly, so `auto` never chooses it.
 */
import { tf } from "../deps.ts";
import { GensembleError } from "./errors.ts";

/** A backend a user may ask for. */
export type BackendName = "auto" | "webgpu" | "wasm" | "cpu";

/** What `initBackend` chose. */
export interface BackendInfo {
  /** The tfjs backend now active: "webgpu", "wasm" or "cpu". */
  backend: "webgpu" | "wasm" | "cpu";
  /** A short description of the GPU adapter, "none", or "not probed" (wasm or cpu asked for). */
  adapter: string;
  /** True when the adapter is a software (fallback) one, such as llvmpipe. */
  fallbackAdapter: boolean;
}

export const BACKEND_NAMES: readonly BackendName[] = ["auto", "webgpu", "wasm", "cpu"];

let announced = false;

interface AdapterProbe {
  description: string;
  isFallback: boolean;
}

/** Ask the runtime for a WebGPU adapter without creating a device. */
export async function probeAdapter(): Promise<AdapterProbe | null> {
  // deno-lint-ignore no-explicit-any
  const gpu = (navigator as any).gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    // Deno 2 moved isFallbackAdapter from the adapter onto adapter.info.
    const isFallback = Boolean(adapter.isFallbackAdapter ?? info.isFallbackAdapter);
    const description = [info.vendor, info.architecture, info.description]
      .filter((s: unknown) => typeof s === "string" && s.length > 0).join(" ") || "unknown";
    return { description, isFallback };
  } catch {
    return null;
  }
}

async function trySet(name: "webgpu" | "wasm" | "cpu"): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Select and initialise a tfjs backend; prints the choice once to stderr.
 *
 * @example
 * ```ts
 * const info = await initBackend("auto");
 * console.log(info.backend); // "wasm" on a machine without a GPU
 * ```
 */
export async function initBackend(
  requested: BackendName = "auto",
  options: { quiet?: boolean } = {},
): Promise<BackendInfo> {
  if (!BACKEND_NAMES.includes(requested)) {
    throw new GensembleError(
      `Unknown backend "${requested}": use one of ${BACKEND_NAMES.join(", ")}`,
    );
  }
  // PROD silences tfjs's "install tfjs-node" banner, which does not apply to Deno.
  tf.env().set("PROD", true);
  // Only ask for a GPU adapter when the choice depends on it: every probe creates a native wgpu
  // instance, and many of them in one process (parallel tests) have crashed Deno at exit.
  const probed = requested === "auto" || requested === "webgpu";
  const adapter = probed ? await probeAdapter() : null;
  let order: Array<"webgpu" | "wasm" | "cpu">;
  if (requested === "auto") {
    order = adapter && !adapter.isFallback ? ["webgpu", "wasm", "cpu"] : ["wasm", "cpu"];
  } else {
    order = [requested];
  }
  for (const name of order) {
    if (await trySet(name)) {
      const info: BackendInfo = {
        backend: name,
        adapter: adapter?.description ?? (probed ? "none" : "not probed"),
        fallbackAdapter: adapter?.isFallback ?? false,
      };
      if (!announced && !options.quiet) {
        announced = true;
        const kind = adapter ? (adapter.isFallback ? " (software fallback)" : " (hardware)") : "";
        console.error(`gensemble: backend ${name}; GPU adapter: ${info.adapter}${kind}`);
      }
      return info;
    }
  }
  throw new GensembleError(
    `Backend "${requested}" could not be initialised` +
      (requested === "webgpu" ? ": no WebGPU adapter was found" : ""),
  );
}
