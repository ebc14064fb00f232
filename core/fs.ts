/** Small file-system helpers shared by the tasks. */

/** Whether `path` exists (any kind of entry); other errors, like permissions, are thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
