/**
 * Downloads into the dataset cache, verified by sha256 before anything is written, plus the
 * minimal tar reader needed to unpack CIFAR-10's official `cifar-10-binary.tar.gz`.
 */

import { GensembleError } from "../core/errors.ts";
import { writeFileAtomic } from "../core/atomic.ts";
import { gunzipBytes, isGzip } from "./read_bytes.ts";
import { sha256Hex } from "../core/hash.ts";

/** One file to fetch: its URL, expected sha256, and what to save in the dataset's cache dir. */
export interface Download {
  url: string;
  sha256: string;
  /** Save the download under this name (a plain file). */
  saveAs?: string;
  /** Or unpack a `.tar` / `.tar.gz`: archive member path → file name to save. */
  extract?: Record<string, string>;
}

/**
 * Fetch a URL and check its sha256; the bytes are returned only if they match.
 * @example const bytes = await fetchVerified(url, "c4a38c50…");
 */
export async function fetchVerified(
  url: string,
  sha256: string,
  fetchFn: typeof fetch = fetch,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    const res = await fetchFn(url);
    if (!res.ok) {
      await res.body?.cancel();
      throw new GensembleError(`${url}: download failed (HTTP ${res.status} ${res.statusText})`);
    }
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof GensembleError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new GensembleError(`${url}: download failed (${why})`);
  }
  const got = await sha256Hex(bytes);
  if (got !== sha256) {
    throw new GensembleError(`${url}: downloaded file has sha256 ${got}, expected ${sha256}`);
  }
  return bytes;
}

/**
 * The regular files of a (ustar or GNU) tar archive, keyed by member path.
 * @example const members = untar(gunzipBytes(bytes, "a.tar.gz"), "a.tar.gz");
 */
export function untar(bytes: Uint8Array, path: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const text = new TextDecoder();
  const field = (o: number, n: number) =>
    text.decode(bytes.subarray(o, o + n)).replace(/\0.*$/s, "").trim();
  let offset = 0;
  let longName: string | null = null;
  while (offset + 512 <= bytes.length) {
    if (bytes.subarray(offset, offset + 512).every((b) => b === 0)) break; // end-of-archive block
    const size = parseInt(field(offset + 124, 12) || "0", 8);
    const type = String.fromCharCode(bytes[offset + 156] || 0x30);
    const prefix = field(offset + 345, 155);
    let name = longName ?? (prefix ? `${prefix}/${field(offset, 100)}` : field(offset, 100));
    longName = null;
    const start = offset + 512;
    if (start + size > bytes.length) {
      throw new GensembleError(`${path}: truncated tar archive (member ${name})`);
    }
    const body = bytes.subarray(start, start + size);
    if (type === "L") longName = text.decode(body).replace(/\0.*$/s, "");
    else if (type === "0" || type === "\0") {
      name = name.replace(/^\.\//, "");
      files.set(name, body);
    }
    offset = start + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * Download one entry into `dir` (creating it), verified; unpacks archives.
 * @example await downloadInto({ url, sha256, saveAs: "t10k-labels-idx1-ubyte.gz" }, cacheDir);
 */
export async function downloadInto(
  d: Download,
  dir: string,
  fetchFn: typeof fetch = fetch,
): Promise<void> {
  console.error(`downloading ${d.url}`);
  const bytes = await fetchVerified(d.url, d.sha256, fetchFn);
  await Deno.mkdir(dir, { recursive: true });
  if (d.saveAs) await writeFileAtomic(`${dir}/${d.saveAs}`, bytes);
  if (d.extract) {
    const tar = isGzip(bytes) ? gunzipBytes(bytes, d.url) : bytes;
    const members = untar(tar, d.url);
    for (const [member, saveAs] of Object.entries(d.extract)) {
      const body = members.get(member);
      if (!body) throw new GensembleError(`${d.url}: archive has no member ${member}`);
      await writeFileAtomic(`${dir}/${saveAs}`, body);
    }
  }
}
