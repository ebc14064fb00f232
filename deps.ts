/**
 * The one place that names third-party modules. Every specifier is a full, pinned `npm:` URL so
 * that `mod.ts` works when imported by URL from a project without an import map.
 *
 * JSR (`@std/*`) is unreachable on our build machines, so the equivalents used here are
 * `node:util` parseArgs, `node:zlib`, and `csv-parse`. Swapping them for `@std/cli` or
 * `@std/csv` later is a change to this file only.
 */

// tfjs through its package root: tfjs-core alone registers no gradients.
export * as tf from "npm:@tensorflow/tfjs@4.22.0";
// Side-effect imports register the "wasm" and "webgpu" backends with tfjs.
export * as tfwasm from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
export * as tfwebgpu from "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";

export { parseArgs } from "node:util";
export { gunzipSync, inflateSync } from "node:zlib";

// PNG encoding for the report's image grids (pngjs ships no types; @types/pngjs describes its API).
// @deno-types="npm:@types/pngjs@6.0.5"
export { PNG } from "npm:pngjs@7.0.0";
