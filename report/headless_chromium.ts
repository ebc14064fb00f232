/**
 * A minimal headless Chromium driver over the Chrome DevTools Protocol, for the report's browser
 * test and `deno task report --screenshot`: launch
 * Debian's `chromium` with a fresh profile and `--remote-debugging-port=0`, read the port from
 * the profile's DevToolsActivePort file, open one WebSocket to the browser and drive one page
 * through a flat session. Console errors, exceptions, log errors and every requested URL are
 * collected, so a test can assert that a page renders cleanly and offline.
 *
 * @example
 * ```ts
 * const browser = await HeadlessChromium.launch();
 * try {
 *   await browser.open("file:///tmp/report.html");
 *   const n = await browser.evaluate<number>("document.images.length");
 * } finally {
 *   await browser.close();
 * }
 * ```
 */

import { GensembleError } from "../core/errors.ts";

/** Where to look for the browser: $CHROMIUM_PATH, then the usual names on PATH. */
const CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/** The path of an installed Chromium, or null. */
export async function findChromium(): Promise<string | null> {
  const fromEnv = Deno.env.get("CHROMIUM_PATH");
  if (fromEnv) {
    try {
      return (await Deno.stat(fromEnv)).isFile ? fromEnv : null;
    } catch {
      return null;
    }
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    for (const name of CANDIDATES) {
      try {
        const info = await Deno.stat(`${dir}/${name}`);
        if (info.isFile) return `${dir}/${name}`;
      } catch {
        // not in this directory
      }
    }
  }
  return null;
}

/** Flags for a quiet, offline, throwaway browser (no first-run UI, no background traffic). */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--disable-dev-shm-usage",
  "--remote-debugging-port=0",
];

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

/** One problem the page reported. */
export interface PageProblem {
  source: "console" | "exception" | "log";
  text: string;
}

async function waitFor<T>(what: string, ms: number, poll: () => Promise<T | null>): Promise<T> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const v = await poll();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new GensembleError(`Timed out after ${ms} ms waiting for ${what}`);
}

/** A launched headless Chromium with one page. */
export class HeadlessChromium {
  /** Console errors, uncaught exceptions and error-level log entries, in order. */
  readonly problems: PageProblem[] = [];
  /** Every URL the page requested (Network.requestWillBeSent). */
  readonly requests: string[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly waiters: { method: string; resolve: () => void }[] = [];
  private sessionId = "";

  private constructor(
    private readonly child: Deno.ChildProcess,
    /** The throwaway profile directory (--user-data-dir), removed by `close`. */
    readonly profile: string,
    private readonly ws: WebSocket,
  ) {
    ws.onmessage = (e) => this.onMessage(JSON.parse(String(e.data)));
  }

  /** Launch Chromium and open a blank page; throws with a clear message when it is missing. */
  static async launch(
    options: { width?: number; height?: number } = {},
  ): Promise<HeadlessChromium> {
    const exe = await findChromium();
    if (!exe) {
      throw new GensembleError(
        "Chromium is not installed: apt-get install -y chromium (or set CHROMIUM_PATH to it); " +
          "the report's browser test can be skipped with GENSEMBLE_SKIP_BROWSER=1",
      );
    }
    const profile = await Deno.makeTempDir({ prefix: "gensemble_chromium_" });
    const child = new Deno.Command(exe, {
      args: [...FLAGS, `--user-data-dir=${profile}`, "about:blank"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let ws: WebSocket | undefined;
    try {
      // Chromium writes "<port>\n<browser ws path>" once its DevTools server listens.
      const [port, path] = await waitFor("Chromium's DevToolsActivePort file", 15_000, async () => {
        try {
          const lines = (await Deno.readTextFile(`${profile}/DevToolsActivePort`)).split("\n");
          return lines.length >= 2 && lines[1] ? lines : null;
        } catch {
          return null;
        }
      });
      ws = new WebSocket(`ws://127.0.0.1:${port.trim()}${path.trim()}`);
      await new Promise<void>((resolve, reject) => {
        ws!.onopen = () => resolve();
        ws!.onerror = () => reject(new Error("Could not connect to Chromium's DevTools socket"));
      });
      const browser = new HeadlessChromium(child, profile, ws);
      await browser.attachPage(options.width ?? 1280, options.height ?? 900);
      return browser;
    } catch (err) {
      ws?.close();
      await HeadlessChromium.stop(child, profile);
      throw err;
    }
  }

  private onMessage(msg: Record<string, unknown>): void {
    if (typeof msg.id === "number") {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      const error = msg.error as { message?: string } | undefined;
      if (error) p?.reject(new Error(`CDP error: ${error.message}`));
      else p?.resolve((msg.result ?? {}) as Record<string, unknown>);
      return;
    }
    const method = String(msg.method);
    // deno-lint-ignore no-explicit-any
    const params = (msg.params ?? {}) as any;
    if (
      method === "Runtime.consoleAPICalled" && (params.type === "error" || params.type === "assert")
    ) {
      const text = (params.args ?? []).map((a: { value?: unknown; description?: string }) =>
        a.value ?? a.description ?? ""
      ).join(" ");
      this.problems.push({ source: "console", text });
    } else if (method === "Runtime.exceptionThrown") {
      const d = params.exceptionDetails ?? {};
      this.problems.push({ source: "exception", text: d.exception?.description ?? d.text ?? "" });
    } else if (method === "Log.entryAdded" && params.entry?.level === "error") {
      this.problems.push({ source: "log", text: `${params.entry.text} ${params.entry.url ?? ""}` });
    } else if (method === "Network.requestWillBeSent") {
      this.requests.push(String(params.request?.url));
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].method === method) this.waiters.splice(i, 1)[0].resolve();
    }
  }

  /** Send a CDP command (to the page session unless `browserLevel`). */
  send(
    method: string,
    params: Record<string, unknown> = {},
    browserLevel = false,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const msg: Record<string, unknown> = { id, method, params };
    if (!browserLevel && this.sessionId) msg.sessionId = this.sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify(msg));
    });
  }

  private async attachPage(width: number, height: number): Promise<void> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" }, true);
    const attached = await this.send("Target.attachToTarget", { targetId, flatten: true }, true);
    this.sessionId = String(attached.sessionId);
    for (const domain of ["Page", "Runtime", "Log", "Network"]) await this.send(`${domain}.enable`);
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
  }

  /** Navigate and wait for the load event (at most `timeoutMs`). */
  async open(url: string, timeoutMs = 15_000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loaded = new Promise<void>((resolve, reject) => {
      this.waiters.push({ method: "Page.loadEventFired", resolve });
      timer = setTimeout(() => reject(new Error(`Timed out loading ${url}`)), timeoutMs);
    });
    try {
      const nav = await this.send("Page.navigate", { url });
      if (nav.errorText) throw new Error(`Could not open ${url}: ${nav.errorText}`);
      await loaded;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Evaluate an expression in the page and return its value (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (r.exceptionDetails) {
      throw new Error(`Page evaluation failed: ${JSON.stringify(r.exceptionDetails)}`);
    }
    return (r.result as { value: T }).value;
  }

  /** A PNG screenshot; `clip` in CSS pixels, beyond the viewport when needed. */
  async screenshot(
    clip?: { x: number; y: number; width: number; height: number },
  ): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      ...(clip ? { clip: { ...clip, scale: 1 } } : {}),
    });
    const s = atob(String(r.data));
    return Uint8Array.from(s, (c) => c.charCodeAt(0));
  }

  /**
   * Close the browser (CDP Browser.close, then SIGKILL if it lingers) and delete its profile;
   * returns how many leftover helper processes had to be killed (0 when it shut down cleanly).
   */
  async close(): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.send("Browser.close", {}, true),
        new Promise((r) => timer = setTimeout(r, 3000)),
      ]);
    } catch {
      // the socket may already be gone
    } finally {
      clearTimeout(timer);
    }
    const closed = new Promise<void>((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) resolve();
      else this.ws.onclose = () => resolve();
    });
    this.ws.close();
    await closed;
    for (const p of this.pending.values()) p.reject(new Error("browser closed"));
    this.pending.clear();
    return await HeadlessChromium.stop(this.child, this.profile);
  }

  /** Stop the browser; returns how many helper processes had to be killed (0 when clean). */
  private static async stop(child: Deno.ChildProcess, profile: string): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      child.status.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 5000)),
    ]);
    clearTimeout(timer);
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    }
    // Helpers (renderer, GPU, zygote) carry the profile path in their command line and exit just
    // after the browser; end any that outlive it by a few seconds, by pid.
    const lingering = await waitFor("Chromium's helper processes to exit", 3000, async () => {
      const pids = await processesUsing(profile);
      return pids.length === 0 ? [] : null;
    }).catch(() => processesUsing(profile));
    for (const pid of lingering) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    return lingering.length;
  }
}

/** Pids of processes whose command line mentions `text` (Linux /proc; empty elsewhere). */
export async function processesUsing(text: string): Promise<number[]> {
  const pids: number[] = [];
  try {
    for await (const e of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`);
        if (cmd.includes(text)) pids.push(Number(e.name));
      } catch {
        // exited or not readable
      }
    }
  } catch {
    // no /proc
  }
  return pids;
}
