/** Reading the JSON records a run keeps (config, calibration, results, report data). */
import { fileError } from "./errors.ts";

/**
 * Parse the JSON file at `path`; null when it does not exist. Unparseable JSON is a user error
 * "path: <invalid>", so the caller says what to do about it (e.g. "is not valid JSON; retrain").
 */
export async function readJsonIfExists(path: string, invalid: string): Promise<unknown | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw fileError(path, invalid);
  }
}
