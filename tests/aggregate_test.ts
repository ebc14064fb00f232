import assert from "node:assert/strict";
import { initBackend } from "../core/backend.ts";
import { aggregateScores, availableScores } from "../tasks/aggregate.ts";
import type { MemberScores } from "../models/member.ts";

await initBackend("cpu", { quiet: true });

function close(actual: ArrayLike<number> | undefined, expected: number[], tol = 1e-4): void {
  assert.ok(actual, "score missing");
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])),
      `index ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

// Three members, three inputs. Column by column (log-likelihoods):
//   input 0: −1, −2, −3   mean −2,   var (1+0+1)/3 = 2/3,  WAIC −2 − 2/3 = −8/3
//   input 1: −10, −10, −10 mean −10, var 0,               WAIC −10
//   input 2: 4, −2, 1     mean 1,    var (9+9+0)/3 = 6,    WAIC −5
const members: MemberScores[] = [
  {
    logLik: new Float32Array([-1, -10, 4]),
    rate: new Float32Array([1, 2, 3]),
    posteriorMean: new Float32Array([0, 0, 1, 1, 2, 0]), // [3 inputs, 2 latent]
  },
  {
    logLik: new Float32Array([-2, -10, -2]),
    rate: new Float32Array([3, 2, 5]),
    posteriorMean: new Float32Array([2, 0, 1, 3, 2, 0]),
  },
  {
    logLik: new Float32Array([-3, -10, 1]),
    rate: new Float32Array([5, 2, 1]),
    posteriorMean: new Float32Array([4, 0, 1, 5, 2, 6]),
  },
];

Deno.test("anomaly scores: single, mean, var, waic, rate, posterior_mean_var by hand", () => {
  const s = aggregateScores(members, [
    "single",
    "mean",
    "var",
    "waic",
    "rate",
    "posterior_mean_var",
  ]);
  close(s.single, [1, 10, -4]); // −log p̂ of member 0
  close(s.mean, [2, 10, -1]); // −E_m
  close(s.var, [2 / 3, 0, 6]); // +Var_m, ddof 0
  close(s.waic, [8 / 3, 10, 5]); // −(E − Var)
  close(s.rate, [3, 2, 3]); // E_m rate
  // Posterior means: input 0 dims (0,2,4)→var 8/3 and (0,0,0)→0; input 1 (1,1,1)→0 and
  // (1,3,5)→8/3; input 2 (2,2,2)→0 and (0,0,6)→8.
  close(s.posterior_mean_var, [8 / 3, 8 / 3, 8]);
});

Deno.test("member disagreement is flagged by var and waic, not by mean", () => {
  // Same mean (−5) for both inputs; input 1 has member disagreement, so only var/waic flag it.
  const agree: MemberScores[] = [
    { logLik: new Float32Array([-5, -1]) },
    { logLik: new Float32Array([-5, -9]) },
  ];
  const s = aggregateScores(agree, ["mean", "var", "waic"]);
  close(s.mean, [5, 5]);
  close(s.var, [0, 16]);
  close(s.waic, [5, 21]);
  assert.ok(s.waic![1] > s.waic![0]);
});

Deno.test("member selection repeats members (bootstrap) but single stays member 0", () => {
  const s = aggregateScores(members, ["single", "mean", "var", "rate"], [2, 2, 1]);
  // input 0: −3, −3, −2 → mean −8/3, var: deviations (−1/3, −1/3, 2/3) → (1+1+4)/27 = 2/9
  close(s.mean, [8 / 3, 10, 0]);
  close(s.var, [2 / 9, 0, 2]); // input 2: 1, 1, −2 → mean 0, var (1+1+4)/3 = 2
  close(s.rate, [13 / 3, 2, 7 / 3]);
  close(s.single, [1, 10, -4]);
});

Deno.test("WGAN-style members (logits only) report no rate; bad input is rejected", () => {
  const logits: MemberScores[] = [{ logLik: new Float32Array([0.5]) }];
  assert.deepEqual(availableScores(logits), ["single", "mean", "var", "waic"]);
  assert.deepEqual(availableScores(members), ["single", "mean", "var", "waic", "rate"]);
  assert.deepEqual(availableScores(members, { posteriorMeanVar: true }), [
    "single",
    "mean",
    "var",
    "waic",
    "rate",
    "posterior_mean_var",
  ]);
  assert.throws(() => aggregateScores(logits, ["rate"]), /rate/);
  assert.throws(() => aggregateScores(members, ["mean"], [3]), /no member 3/);
  assert.throws(
    () => aggregateScores([...members, { logLik: new Float32Array(2) }], ["mean"]),
    /disagree on N/,
  );
});
