/**
 * `mod.ts` imported by URL from a folder with no deno.json: serve this repository on 127.0.0.1,
 * run a small script there in a separate Deno process, and check that the metrics give the
 * hand-computed numbers and that the wasm backend (whose .wasm files tfjs-backend-wasm finds
 * next to its own npm package) initialises and computes.
 */
import assert from "node:assert/strict";

const REPO_ROOT = new URL("../", import.meta.url);

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript",
  ".js": "application/javascript",
  ".json": "application/json",
};

/** Serve files under the repository root, read-only, on a random local port. */
function serveRepository(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = decodeURIComponent(new URL(req.url).pathname); // URL parsing removes "..".
    const file = new URL("." + path, REPO_ROOT);
    const ext = path.slice(path.lastIndexOf("."));
    try {
      const body = await Deno.readFile(file);
      return new Response(body, {
        headers: { "content-type": CONTENT_TYPES[ext] ?? "application/octet-stream" },
      });
    } catch {
      return new Response(`not found: ${path}`, { status: 404 });
    }
  });
}

Deno.test("mod.ts works when imported by URL from a folder with no config", async () => {
  const server = serveRepository();
  const dir = await Deno.makeTempDir({ prefix: "gensemble_url_import_" });
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    await Deno.writeTextFile(
      `${dir}/main.ts`,
      `import { initBackend, oodMetrics } from "${base}/mod.ts";
import * as tf from "npm:@tensorflow/tfjs@4.22.0";
const info = await initBackend("wasm", { quiet: true });
const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]]));
console.log(JSON.stringify({
  backend: info.backend,
  active: tf.getBackend(),
  product: Array.from(await product.data()),
  metrics: oodMetrics([0.1, 0.2, 0.3], [0.25, 0.9]),
}));
`,
    );
    // --no-config: no deno.json or package.json from any parent folder may help; --reload for
    // this origin so a reused port never serves stale cached modules. The npm packages come
    // from the global Deno cache (or the npm registry), not from the repository's node_modules.
    const child = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", `--reload=${base}`, "main.ts"],
      cwd: dir,
      env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(child.stdout);
    const stderr = new TextDecoder().decode(child.stderr);
    assert.equal(child.code, 0, `the URL-importing script failed:\n${stderr}`);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    assert.equal(result.backend, "wasm");
    assert.equal(result.active, "wasm");
    assert.deepEqual(result.product, [19, 22, 43, 50]); // [[1·5+2·7, 1·6+2·8], [3·5+4·7, …]]
    // The hand-computed case of metrics_test.ts: 0.9 out, 0.3 in, 0.25 out, 0.2 in, 0.1 in.
    const m = result.metrics;
    const expected = {
      auroc: 5 / 6,
      auprIn: 11 / 12,
      auprOut: 5 / 6,
      fpr95: 1 / 2,
      fpr99: 1 / 2,
      fpr95OodPositive: 1 / 3,
      fpr99OodPositive: 1 / 3,
    };
    for (const [k, v] of Object.entries(expected)) {
      assert.ok(Math.abs(m[k] - v) < 1e-12, `${k}: got ${m[k]}, expected ${v}`);
    }
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
