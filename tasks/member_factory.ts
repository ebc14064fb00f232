/**
 * Which code builds a member for a config: a small registry keyed by `MemberConfig.model`.
 * Training (in-process and in workers), eval and score all create members through it, so a new
 * model family plugs in with one line in FACTORIES below (workers import this module too, which
 * is why the registry is a static table and not something filled in at run time).
 */
import { GensembleError } from "../core/errors.ts";
import type { Member, MemberConfig } from "../models/member.ts";
import { createVaeMember } from "../models/vae.ts";
import { createWganMember } from "../models/wgan.ts";

/** Builds a fresh, randomly initialised (seeded by `config.seed`) member. */
export type MemberFactory = (config: MemberConfig) => Member | Promise<Member>;

const FACTORIES: Record<string, MemberFactory> = {
  vae: createVaeMember,
  wgan: createWganMember,
};

/** The model names that have a factory, for `--model` validation and `--help`. */
export function memberModels(): string[] {
  return Object.keys(FACTORIES);
}

/**
 * Build a member for a config; an unknown model is a user error.
 *
 * @example
 * ```ts
 * const member = await createMember({ ...runConfig.member, seed: runConfig.seed + 2 });
 * ```
 */
export async function createMember(config: MemberConfig): Promise<Member> {
  const factory = FACTORIES[config.model];
  if (!factory) {
    throw new GensembleError(
      `Unknown model "${config.model}": use one of ${memberModels().join(", ")}`,
    );
  }
  return await factory(config);
}
