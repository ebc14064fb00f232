/**
 * The WGSL sources: kernels/wgsl_sources.ts (generated) matches the kernels/*.wgsl files, each
 * file carries the header the design asks for, and every kernel the registration runs exists.
 */
import assert from "node:assert/strict";
import { renderWgslSources, WGSL_SOURCES_MODULE } from "../kernels/build_wgsl_sources.ts";
import { WGSL_SOURCES } from "../kernels/wgsl_sources.ts";
import { wgslKernelNames, wgslKernelSource } from "../kernels/wgsl_program.ts";

Deno.test("kernels/wgsl_sources.ts is regenerated from the .wgsl files", async () => {
  const current = await Deno.readTextFile(WGSL_SOURCES_MODULE);
  assert.ok(
    current === await renderWgslSources(),
    "kernels/wgsl_sources.ts is stale: run deno run -A kernels/build_wgsl_sources.ts",
  );
});

Deno.test("each .wgsl file has a header: what, buffers, workgroup size and why", () => {
  assert.deepEqual(Object.keys(WGSL_SOURCES), [
    "ensemble_stats.wgsl",
    "iwae_logmeanexp.wgsl",
    "maf_affine.wgsl",
  ]);
  for (const [file, text] of Object.entries(WGSL_SOURCES)) {
    assert.ok(text.startsWith(`// ${file}: `), `${file} opens with a header comment`);
    assert.match(text, /\/\/ Buffers: /, `${file} describes its buffers`);
    assert.match(text, /\/\/ Workgroup size 64/, `${file} gives its workgroup size`);
  }
});

Deno.test("every registered kernel has a WGSL section with a main()", () => {
  const used = [
    "maf_affine_u",
    "maf_affine_log_det",
    "maf_affine_grad_z",
    "maf_affine_grad_mu",
    "maf_affine_grad_alpha",
    "iwae_logmeanexp",
    "iwae_logmeanexp_grad",
    "ensemble_stats",
  ];
  assert.deepEqual(wgslKernelNames().sort(), [...used].sort());
  for (const name of used) assert.match(wgslKernelSource(name), /\nfn main\(\w+ : i32\) \{/);
  assert.throws(() => wgslKernelSource("nope"), /no WGSL kernel named "nope"/);
});
