/**
 * Backend selection: wasm and cpu initialise and compute, auto picks webgpu only on hardware
 * (wasm on a machine whose only adapter is a software one), unknown names are refused.
 * Backends are global per process; `deno test --parallel` gives each test file its own.
 */
import assert from "node:assert/strict";
import { tf } from "../deps.ts";
import { initBackend, probeAdapter } from "../core/backend.ts";

/** [N, K] × [K, M] in float64 plain JS: the oracle for tfjs's float32 matmul. */
function matmulOracle(a: Float32Array, b: Float32Array, n: number, k: number, m: number) {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * m + j];
      out[i * m + j] = s;
    }
  }
  return out;
}

async function checkMatmul(): Promise<void> {
  // [[1, 2], [3, 4]] × [[5, 6], [7, 8]] = [[1·5 + 2·7, 1·6 + 2·8], [3·5 + 4·7, 3·6 + 4·8]].
  const small = tf.tidy(() =>
    tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]))
  );
  assert.deepEqual(Array.from(await small.data()), [19, 22, 43, 50]);
  small.dispose();
  // A shape that is not a multiple of any SIMD width, against the float64 oracle.
  const [n, k, m] = [37, 53, 29];
  const a = Float32Array.from({ length: n * k }, (_, i) => Math.sin(i) * 0.5);
  const b = Float32Array.from({ length: k * m }, (_, i) => Math.cos(i * 0.7));
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, k]), tf.tensor2d(b, [k, m])));
  const got = await product.data();
  product.dispose();
  const want = matmulOracle(a, b, n, k, m);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `matmul[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

Deno.test("initBackend: wasm initialises and multiplies matrices correctly", async () => {
  const info = await initBackend("wasm", { quiet: true });
  assert.equal(info.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  const before = tf.memory().numTensors;
  await checkMatmul();
  assert.equal(tf.memory().numTensors, before, "matmul check leaks no tensors");
});

Deno.test("initBackend: cpu initialises and multiplies matrices correctly", async () => {
  const info = await initBackend("cpu", { quiet: true });
  assert.equal(info.backend, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  await checkMatmul();
});

Deno.test("initBackend: auto picks webgpu only on a hardware adapter, else wasm", async () => {
  const adapter = await probeAdapter();
  const info = await initBackend("auto", { quiet: true });
  const hardware = adapter !== null && !adapter.isFallback;
  assert.equal(info.backend, hardware ? "webgpu" : "wasm");
  assert.equal(tf.getBackend(), info.backend);
  assert.equal(info.fallbackAdapter, adapter?.isFallback ?? false);
  await checkMatmul();
});

Deno.test("initBackend: an unknown backend name is refused with the valid names", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => initBackend("tpu" as any, { quiet: true }),
    /Unknown backend "tpu": use one of auto, webgpu, wasm, cpu/,
  );
});
