/**
 * The WGAN member's values for each preset (tasks/presets.ts applies them for `--model wgan`).
 *
 * `maxSteps` counts every `trainStep`: generator iterations plus the `extraSteps` classifier
 * steps at the end (the reference: 20001 + 4001).
 */
import type { MemberConfig } from "./member.ts";
import { REFERENCE_WGAN_SETTINGS, type WganSettings } from "./wgan.ts";

/** Member values a preset fixes for a WGAN, including the WGAN-only settings. */
export type WganPresetValues =
  & Partial<Omit<MemberConfig, "model" | "inputShape" | "seed">>
  & { wgan: Partial<WganSettings> };

/** Per preset name: the WGAN member values. */
export const WGAN_PRESET_VALUES: Readonly<Record<"paper" | "default" | "smoke", WganPresetValues>> =
  {
    // wgan_run.py: conv critic/generator of base depth 32, z 128, batch 64, RMSProp 5e-5,
    // 20001 generator iterations (5 critic iterations each; 100 in warm-up), then 4001 extra steps.
    paper: {
      arch: "conv",
      latentSize: 128,
      baseDepth: 32,
      learningRate: 5e-5,
      batchSize: 64,
      maxSteps: 20001 + 4001,
      wgan: { ...REFERENCE_WGAN_SETTINGS },
    },
    // Sized for a 2-core CPU: dense 256-256 critic/generator, z 64, Adam(1e-4, β₁ 0.5, β₂ 0.9)
    // (WGAN-GP's own recipe; it learns far faster than RMSProp 5e-5 in a short run), 5 critic
    // iterations, a short warm-up. `deno task bench` (tasks/bench_wgan.ts) on wasm: 0.36 CPU-s
    // per generator iteration on MNIST (paper config: 13 CPU-s); two members training at once
    // took 228–266 s each for 600 + 200 steps, so 5 members in 3 rounds ≈ 13 min. A conv critic
    // of base depth 8 (1.7 s per iteration) was tried instead: no better on noise (README).
    default: {
      arch: "dense",
      denseHidden: [256, 256],
      latentSize: 64,
      learningRate: 1e-4,
      batchSize: 64,
      maxSteps: 600 + 200,
      wgan: {
        ...REFERENCE_WGAN_SETTINGS,
        optimizer: "adam",
        warmupSteps: 10,
        warmupCriticIters: 25,
        warmupEvery: 0,
        extraSteps: 200,
      },
    },
    // Seconds, for pipeline tests: one critic iteration per generator step, one extra step.
    smoke: {
      arch: "dense",
      denseHidden: [16],
      latentSize: 4,
      learningRate: 5e-5,
      batchSize: 8,
      maxSteps: 3,
      wgan: {
        ...REFERENCE_WGAN_SETTINGS,
        criticIters: 1,
        warmupSteps: 0,
        warmupEvery: 0,
        extraSteps: 1,
        poolBatches: 2,
      },
    },
  };

/**
 * Per preset name: changes for 32×32×3 images (CIFAR-10). Their generator iterations cost 4.5×
 * MNIST's on the dense default (1.64 CPU-s, `deno task bench`), so the default preset runs 240
 * instead of 600 to keep training 5 members under 25 minutes on 2 cores.
 */
export const WGAN_CIFAR_VALUES: Readonly<
  Record<"paper" | "default" | "smoke", Partial<WganPresetValues>>
> = {
  paper: {},
  default: {
    maxSteps: 240 + 150,
    wgan: { ...WGAN_PRESET_VALUES.default.wgan, extraSteps: 150 },
  },
  smoke: {},
};

/** Per preset name: one line on what the WGAN values are (for `--help` and results.md). */
export const WGAN_PRESET_SUMMARIES: Readonly<Record<"paper" | "default" | "smoke", string>> = {
  paper: "the reference's wgan_run.py: conv critic/generator, z 128, batch 64, RMSProp " +
    "5e-5, 20001 generator iterations + 4001 classifier steps; meant for a GPU",
  default: "sized for a 2-core CPU: dense 256-256 critic/generator instead of conv, z 64, " +
    "Adam 1e-4, 600 generator iterations + 200 classifier steps (CIFAR-10: 240 + 150) " +
    "instead of 20001 + 4001",
  smoke: "a tiny critic and generator, 2 + 1 steps, to check the pipeline (not for results)",
};
