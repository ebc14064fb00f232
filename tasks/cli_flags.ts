/**
 * Command-line flags for the task scripts (train, eval, score, bench): one declarative spec per
 * command gives parsing, validation with one-line errors, and the `--help` text.
 *
 * Built on `node:util` parseArgs (through deps.ts) in its token mode, so that every problem gets
 * our own sentence-case message instead of Node's. Flags use underscores like the reference
 * (`--max_steps`); dashes are accepted too (`--max-steps`).
 *
 * @example
 * ```ts
 * const spec: CommandSpec = {
 *   usage: "deno task train <dataset> [flags]",
 *   description: "Train an ensemble.",
 *   positionals: { names: "<dataset>", min: 1, max: 1 },
 *   flags: { max_steps: { type: "int", min: 1, help: "Training steps per member." } },
 * };
 * const cli = parseCli(["mnist", "--max_steps", "100"], spec);
 * cli.int("max_steps"); // 100
 * ```
 */
import { parseArgs } from "../deps.ts";
import { GensembleError } from "../core/errors.ts";

/** How a flag's value is read. */
export type FlagType = "string" | "int" | "number" | "boolean" | "int_list";

/** One flag of a command. */
export interface FlagSpec {
  type: FlagType;
  /** One line for `--help`. */
  help: string;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  /** Applied when the flag is not given. Leave unset when the caller fills it (e.g. a preset). */
  default?: string | number | boolean;
  /** Shown as the default in `--help` when `default` is unset (e.g. "preset: 5"). */
  defaultText?: string;
  /** A string flag that may be repeated (`--ood a=x --ood b=y`); read with `list()`. */
  multiple?: boolean;
  /** Smallest allowed value of an int/number flag (and of each entry of an int_list). */
  min?: number;
  /** Largest allowed value of an int/number flag. */
  max?: number;
  /** Placeholder for the value in `--help`, e.g. "DIR". */
  placeholder?: string;
}

/** A command: usage line, description, positional arguments and flags. */
export interface CommandSpec {
  /** e.g. "deno task train <dataset> [flags]". */
  usage: string;
  description: string;
  flags: Record<string, FlagSpec>;
  positionals?: { names: string; min?: number; max?: number };
  /** Extra text after the flag list (examples, notes). */
  epilog?: string;
}

type FlagValue = string | number | boolean | string[] | number[];

/** Parsed command line with typed accessors; `help` is true when `--help`/`-h` was given. */
export class ParsedCli {
  constructor(
    readonly spec: CommandSpec,
    readonly positionals: string[],
    private readonly values: Map<string, FlagValue>,
    readonly help: boolean,
  ) {}

  /** Whether the user gave the flag (defaults do not count). */
  given(name: string): boolean {
    this.check(name);
    return this.values.has(name);
  }

  /** Names of the flags the user gave. */
  givenNames(): string[] {
    return [...this.values.keys()];
  }

  string(name: string): string | undefined {
    return this.get(name, "string") as string | undefined;
  }

  int(name: string): number | undefined {
    return this.get(name, "int") as number | undefined;
  }

  number(name: string): number | undefined {
    return this.get(name, "number") as number | undefined;
  }

  bool(name: string): boolean {
    return (this.get(name, "boolean") as boolean | undefined) ?? false;
  }

  intList(name: string): number[] | undefined {
    return this.get(name, "int_list") as number[] | undefined;
  }

  /** All values of a repeatable string flag, in order (empty when not given). */
  list(name: string): string[] {
    const spec = this.check(name);
    if (!spec.multiple) throw new Error(`Flag --${name} is not declared as multiple`);
    return (this.values.get(name) as string[] | undefined) ?? [];
  }

  private check(name: string): FlagSpec {
    const spec = this.spec.flags[name];
    if (!spec) throw new Error(`Flag --${name} is not declared in this command's spec`);
    return spec;
  }

  private get(name: string, type: FlagType): FlagValue | undefined {
    const spec = this.check(name);
    if (spec.type !== type) throw new Error(`Flag --${name} is ${spec.type}, read as ${type}`);
    return this.values.get(name) ?? spec.default;
  }
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

function suggestion(name: string, known: string[]): string {
  let best = "";
  let bestD = Infinity;
  for (const k of known) {
    const dist = editDistance(name, k);
    if (dist < bestD) [best, bestD] = [k, dist];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean --${best}?)` : "";
}

function parseNumber(name: string, raw: string, spec: FlagSpec, integer: boolean): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw new GensembleError(
      `Flag --${name} expects ${integer ? "an integer" : "a number"}, got "${raw}"`,
    );
  }
  if (spec.min !== undefined && value < spec.min) {
    throw new GensembleError(`Flag --${name} must be at least ${spec.min}, got ${raw}`);
  }
  if (spec.max !== undefined && value > spec.max) {
    throw new GensembleError(`Flag --${name} must be at most ${spec.max}, got ${raw}`);
  }
  return value;
}

function convert(name: string, raw: string, spec: FlagSpec): FlagValue {
  switch (spec.type) {
    case "int":
      return parseNumber(name, raw, spec, true);
    case "number":
      return parseNumber(name, raw, spec, false);
    case "int_list": {
      const parts = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      if (parts.length === 0) {
        throw new GensembleError(`Flag --${name} expects comma-separated integers, got "${raw}"`);
      }
      return parts.map((p) => parseNumber(name, p, spec, true));
    }
    default:
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new GensembleError(
          `Flag --${name} must be one of ${spec.choices.join(", ")}; got "${raw}"`,
        );
      }
      return raw;
  }
}

/**
 * `parseCli`, but on `--help` print the command's help and return null, so that a CLI's main
 * reads `const cli = parseCliOrHelp(args, SPEC); if (!cli) return;`.
 */
export function parseCliOrHelp(args: string[], spec: CommandSpec): ParsedCli | null {
  const cli = parseCli(args, spec);
  if (!cli.help) return cli;
  console.log(helpText(spec));
  return null;
}

/**
 * Parse `args` against a command spec. Unknown flags, missing or malformed values and wrong
 * positional counts throw a `GensembleError` with a one-line message (runCli prints it).
 * With `--help` or `-h` anywhere, nothing else is validated and `help` is true.
 */
export function parseCli(args: string[], spec: CommandSpec): ParsedCli {
  if (args.some((a) => a === "--help" || a === "-h")) {
    return new ParsedCli(spec, [], new Map(), true);
  }
  // Accept --max-steps for --max_steps: normalize the name part of long flags only.
  const normalized = args.map((a) => {
    if (!a.startsWith("--")) return a;
    const eq = a.indexOf("=");
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    return "--" + name.replaceAll("-", "_") + (eq < 0 ? "" : a.slice(eq));
  });
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    options[name] = { type: f.type === "boolean" ? "boolean" : "string", multiple: !!f.multiple };
  }
  const { tokens } = parseArgs({
    args: normalized,
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values = new Map<string, FlagValue>();
  const positionals: string[] = [];
  const known = Object.keys(spec.flags);
  for (const token of tokens ?? []) {
    if (token.kind === "positional") {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== "option") continue; // "--" terminator
    const name = token.name;
    const f = spec.flags[name];
    if (!f) {
      throw new GensembleError(
        `Unknown flag ${token.rawName}${suggestion(name, known)}; see --help`,
      );
    }
    if (f.type === "boolean") {
      if (token.value !== undefined) {
        throw new GensembleError(`Flag --${name} takes no value; got "${token.value}"`);
      }
      values.set(name, true);
      continue;
    }
    const raw = token.value;
    // parseArgs hands the next flag over as the value of a flag that lacks one.
    if (raw === undefined || (!token.inlineValue && raw.startsWith("--"))) {
      throw new GensembleError(`Flag --${name} needs a value`);
    }
    const value = convert(name, raw, f);
    if (f.multiple) {
      values.set(name, [...((values.get(name) as string[] | undefined) ?? []), value as string]);
    } else {
      values.set(name, value);
    }
  }
  const pos = spec.positionals;
  const min = pos?.min ?? 0;
  const max = pos?.max ?? (pos ? Infinity : 0);
  if (positionals.length < min) {
    throw new GensembleError(`Missing argument ${pos?.names ?? ""}; usage: ${spec.usage}`);
  }
  if (positionals.length > max) {
    throw new GensembleError(
      `Unexpected argument "${positionals[max]}"; usage: ${spec.usage}`,
    );
  }
  return new ParsedCli(spec, positionals, values, false);
}

/** The `--help` text of a command: usage, description, one line per flag, epilog. */
export function helpText(spec: CommandSpec): string {
  const rows: Array<[string, string]> = [];
  for (const [name, f] of Object.entries(spec.flags)) {
    const placeholder = f.type === "boolean"
      ? ""
      : ` ${f.placeholder ?? (f.choices ? f.choices.join("|") : f.type.toUpperCase())}`;
    const dflt = f.default !== undefined && f.type !== "boolean"
      ? ` (default: ${f.default})`
      : f.defaultText
      ? ` (default: ${f.defaultText})`
      : "";
    rows.push([`  --${name}${placeholder}`, f.help + dflt + (f.multiple ? " Repeatable." : "")]);
  }
  rows.push(["  --help, -h", "Show this help."]);
  const width = Math.min(34, Math.max(...rows.map(([a]) => a.length)) + 2);
  const indent = " ".repeat(width);
  const lines = rows.map(([a, b]) => {
    const text = wrap(b, HELP_WIDTH - width).join(`\n${indent}`);
    return a.length + 2 > width ? `${a}\n${indent}${text}` : a.padEnd(width) + text;
  });
  const paragraphs = (text: string) =>
    text.split("\n").flatMap((line) => {
      const lead = /^\s*/.exec(line)![0];
      return wrap(line.trim(), HELP_WIDTH - lead.length - 2).map((l, i) =>
        (i === 0 ? lead : lead + "  ") + l
      );
    });
  return [
    `Usage: ${spec.usage}`,
    "",
    ...paragraphs(spec.description),
    "",
    "Flags:",
    ...lines,
    ...(spec.epilog ? ["", ...paragraphs(spec.epilog)] : []),
    "",
  ].join("\n");
}

const HELP_WIDTH = 100;

/** Greedy word wrap to `width` columns (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  out.push(line);
  return out;
}
