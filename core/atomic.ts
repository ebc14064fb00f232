/**
 * Atomic file writes: write to a temporary file beside the target, then rename over it, so an
 * interrupted run never leaves a half-written checkpoint, cache or report.
 */

/** Write bytes atomically (temp file + rename). */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.${Deno.pid}.${Date.now()}.tmp`;
  await Deno.writeFile(tmp, data);
  await Deno.rename(tmp, path);
}

/** Write text atomically (temp file + rename). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, new TextEncoder().encode(text));
}

/** Write JSON (pretty-printed) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeTextAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
