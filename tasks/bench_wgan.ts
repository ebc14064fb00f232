/**
 * The WGAN part of `deno task bench`: generator iterations per second (each with its 5 critic
 * iterations and their second-order gradient penalty), classifier steps per second and critic
 * logits per second, for the default and paper WGAN configurations, on one backend, in the main
 * thread. Steps are timed outside the warm-up schedule (100 critic iterations), as most of a run
 * is.
 */
import { tf } from "../deps.ts";
import type { MemberConfig } from "../models/member.ts";
import {
  criticItersAt,
  generatorSteps,
  type WganMemberConfig,
  wganSettings,
} from "../models/wgan.ts";
import { createMember } from "./member_factory.ts";
import { resolveMemberConfig } from "./presets.ts";
import { syntheticBatch, timed } from "./bench_worker.ts";

/** A WGAN configuration the bench measures. */
interface WganBenchConfig {
  preset: "default" | "paper";
  inputShape: number[];
  note: string;
}

/** Configurations measured by default (names are part of bench.json). */
export const WGAN_BENCH_CONFIGS: Record<string, WganBenchConfig> = {
  wgan_default: {
    preset: "default",
    inputShape: [28, 28, 1],
    note: "the default WGAN preset on MNIST-shaped inputs",
  },
  wgan_paper: {
    preset: "paper",
    inputShape: [28, 28, 1],
    note: "the reference's conv critic/generator (wgan_run.py), batch 64, on MNIST",
  },
  wgan_default_cifar10: {
    preset: "default",
    inputShape: [32, 32, 3],
    note: "the default WGAN preset on CIFAR-10-shaped inputs",
  },
};

/** n / sec to 3 significant digits (a paper-config rate is ~0.06/s, a logit rate ~30,000/s). */
function perSec(n: number, sec: number | null): number | null {
  return sec && sec > 0 ? Number((n / sec).toPrecision(3)) : null;
}

/** Generator steps that run the regular number of critic iterations (not the warm-up's). */
function regularSteps(config: WganMemberConfig, count: number): number[] {
  const settings = wganSettings(config);
  const out: number[] = [];
  for (let s = settings.warmupSteps; out.length < count; s++) {
    if (criticItersAt(settings, s) === settings.criticIters) out.push(s);
  }
  return out;
}

/**
 * Time one WGAN configuration: `iterations` generator iterations (after one untimed), as many
 * classifier steps ×10, and the critic's logits on `scoreN` inputs.
 *
 * @example
 * ```ts
 * const r = await benchWganConfig(WGAN_BENCH_CONFIGS.wgan_default, 3, 500);
 * r.generatorItersPerSec; // e.g. 2.9 on one wasm thread
 * ```
 */
export async function benchWganConfig(
  bc: WganBenchConfig,
  iterations: number,
  scoreN: number,
): Promise<Record<string, unknown>> {
  const config: MemberConfig = {
    ...resolveMemberConfig({ preset: bc.preset, model: "wgan", inputShape: bc.inputShape }),
    seed: 0,
  };
  const wgan = config as WganMemberConfig;
  const member = await createMember(config);
  const async = tf.getBackend() === "webgpu";
  const step = (x: tf.Tensor, s: number) =>
    async && member.trainStepAsync
      ? member.trainStepAsync(x, s)
      : Promise.resolve(member.trainStep(x, s));
  const rows = member.rowsWanted?.(wganSettings(wgan).warmupSteps) ?? config.batchSize;
  const batch = syntheticBatch(config.inputShape, rows, 1);
  const single = tf.slice(batch, 0, config.batchSize);
  const inputs = syntheticBatch(config.inputShape, scoreN, 2);
  try {
    const [first, ...timedSteps] = regularSteps(wgan, iterations + 1);
    await step(batch, first); // compiles kernels, grows the heap
    const gen = await timed(async () => {
      for (const s of timedSteps) await step(batch, s);
    });
    const extraStart = generatorSteps(wgan);
    const extraN = 10 * iterations;
    await step(single, extraStart);
    const extra = await timed(async () => {
      for (let i = 1; i <= extraN; i++) await step(single, extraStart + i);
    });
    const estimate = (genSec: number | null, extraSec: number | null) =>
      genSec && extraSec
        ? Math.round(
          (generatorSteps(wgan) * genSec) / timedSteps.length +
            (wganSettings(wgan).extraSteps * extraSec) / extraN,
        )
        : null;
    const score = await timed(async () => {
      if (async && member.scoreAsync) await member.scoreAsync(inputs);
      else member.score(inputs);
    });
    return {
      note: bc.note,
      member: {
        arch: config.arch,
        inputShape: config.inputShape,
        latentSize: config.latentSize,
        batchSize: config.batchSize,
        criticIters: wganSettings(wgan).criticIters,
        denseHidden: config.arch === "dense" ? config.denseHidden : undefined,
        baseDepth: config.arch === "conv" ? config.baseDepth : undefined,
      },
      generatorIterations: timedSteps.length,
      generatorItersPerSec: perSec(timedSteps.length, gen.sec),
      // Thread CPU time says what an idle CPU would take; on webgpu the work is elsewhere.
      cpuGeneratorItersPerSec: async ? null : perSec(timedSteps.length, gen.cpuSec),
      classifierStepsPerSec: perSec(extraN, extra.sec),
      logitsPerSec: perSec(scoreN, score.sec),
      // What the preset's whole run takes one member: CPU time on CPU backends, else wall time.
      estimatedSecPerMember: estimate(
        async ? gen.sec : gen.cpuSec,
        async ? extra.sec : extra.cpuSec,
      ),
    };
  } finally {
    tf.dispose([batch, single, inputs]);
    member.dispose();
  }
}

/** All WGAN configurations on the current backend; failures become `error` fields. */
export async function benchWgan(
  names: string[],
  iterations: number,
  scoreN: number,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const bc = WGAN_BENCH_CONFIGS[name];
    if (!bc) {
      out[name] = { error: `unknown WGAN bench configuration "${name}"` };
      continue;
    }
    // The paper's conv iteration takes ~13 s on one wasm thread: time fewer of them.
    const n = bc.preset === "paper" && tf.getBackend() !== "webgpu" ? 1 : iterations;
    log(`bench: ${tf.getBackend()} ${name}: ${n} generator iterations`);
    try {
      out[name] = await benchWganConfig(bc, n, bc.preset === "paper" ? 100 : scoreN);
    } catch (err) {
      out[name] = { error: String((err as Error)?.message ?? err).split("\n")[0] };
    }
  }
  return out;
}
