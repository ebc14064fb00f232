/**
 * Deno Worker entry for eval's score pool (tasks/score_pool.ts): initialises its own tfjs
 * backend, keeps the members it is asked about loaded, and answers each score request with the
 * member's scores, posting progress after every batch.
 */
import { initBackend } from "../core/backend.ts";
import { GensembleError } from "../core/errors.ts";
import { setCustomKernels } from "../kernels/ops.ts";
import type { Member } from "../models/member.ts";
import { createMember } from "./member_factory.ts";
import { scoreInBatches, type ScoreReply, type ScoreRequest } from "./score_pool.ts";

// deno-lint-ignore no-explicit-any
const scope = self as any;
const members = new Map<number, Member>();
let ready: Promise<unknown> | null = null;

scope.onmessage = async (event: MessageEvent<ScoreRequest>) => {
  const req = event.data;
  const post = (msg: ScoreReply) => scope.postMessage(msg);
  if (req.type === "init") {
    setCustomKernels(req.customKernels);
    ready = initBackend(req.backend as "wasm" | "cpu" | "webgpu", { quiet: true });
    await ready;
    post({ type: "ready" });
    return;
  }
  try {
    await ready;
    let member = members.get(req.member.index);
    if (!member) {
      member = await createMember(req.member.config);
      await member.load(req.member.dir);
      members.set(req.member.index, member);
    }
    const scores = await scoreInBatches(
      member,
      { x: req.x, shape: req.shape },
      req.nSamples,
      req.batchSize,
      (done) => post({ type: "progress", id: req.id, done }),
    );
    post({ type: "scored", id: req.id, scores });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({
      type: "error",
      id: req.id,
      message: e.message,
      userError: err instanceof GensembleError,
      stack: e.stack,
    });
  }
};
