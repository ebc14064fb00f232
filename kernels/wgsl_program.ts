/**
 * A tfjs-backend-webgpu program made from one `// ==== kernel <name> ====` section of a
 * `kernels/*.wgsl` file.
 *
 * tfjs-webgpu compiles `getUserCode()` as the *body* of a shader: it prepends the bindings
 * (`result`, one storage array per name in `variableNames`, `uniforms` with every input's shape
 * and the output `size`) and helpers (`setOutputAtIndex`, …), and appends the `_start` entry point
 * that calls `main(globalIndex)`. The pipeline is cached by `shaderKey` plus input ranks and
 * dtypes, so one compiled shader serves every N (sizes arrive as uniforms).
 */
import { tfwebgpu } from "../deps.ts";
import { WGSL_SOURCES } from "./wgsl_sources.ts";

const SECTION_MARKER = /^\/\/ ==== kernel (\w+) ====$/gm;

/** Every kernel section of every .wgsl file, by kernel name. */
function splitSections(): Map<string, string> {
  const sections = new Map<string, string>();
  for (const [file, text] of Object.entries(WGSL_SOURCES)) {
    const markers = [...text.matchAll(SECTION_MARKER)];
    markers.forEach((marker, i) => {
      const end = i + 1 < markers.length ? markers[i + 1].index : text.length;
      if (sections.has(marker[1])) {
        throw new Error(`kernels/${file}: kernel "${marker[1]}" is defined twice`);
      }
      sections.set(marker[1], text.slice(marker.index, end));
    });
  }
  return sections;
}

let sections: Map<string, string> | null = null;

/** The WGSL text of one kernel section (its marker line included). */
export function wgslKernelSource(name: string): string {
  sections ??= splitSections();
  const source = sections.get(name);
  if (source === undefined) {
    throw new Error(`kernels/wgsl_sources.ts: no WGSL kernel named "${name}"`);
  }
  return source;
}

/** The names of all kernel sections in kernels/*.wgsl. */
export function wgslKernelNames(): string[] {
  sections ??= splitSections();
  return [...sections.keys()];
}

/** Threads per workgroup for every kernel here; the .wgsl headers say why 64. */
export const WORKGROUP_SIZE = 64;

/**
 * One WGSL kernel as a tfjs WebGPU program.
 *
 * `threadDims` names the output dimensions that get one invocation per index: all of them for an
 * elementwise kernel, `[1]` for a kernel that writes a whole [K, N] column per invocation.
 */
export class WgslProgram implements tfwebgpu.WebGPUProgram {
  readonly variableNames: string[];
  readonly outputShape: number[];
  shaderKey: string;
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  readonly workgroupSize: [number, number, number] = [WORKGROUP_SIZE, 1, 1];
  /** Ask tfjs for `uniforms.size` (the output's element count). */
  readonly size = true;
  private readonly kernel: string;

  constructor(
    kernel: string,
    variableNames: string[],
    outputShape: number[],
    threadDims: number[] = outputShape.map((_, i) => i),
  ) {
    this.kernel = kernel;
    this.variableNames = variableNames;
    this.outputShape = outputShape;
    this.shaderKey = `gensemble_${kernel}`;
    this.dispatchLayout = { x: threadDims };
    this.dispatch = tfwebgpu.webgpu_util.computeDispatch(
      this.dispatchLayout,
      this.outputShape,
      this.workgroupSize,
    );
  }

  getUserCode(): string {
    return wgslKernelSource(this.kernel);
  }
}
