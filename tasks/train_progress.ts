/**
 * What training shows while it runs and when it ends: throttled progress lines on stderr (member,
 * step, loss, rate, distortion, lr, examples/s, ETA of the member and of the whole run) and the
 * summary table.
 */
import type { MemberProgress, MemberSummary } from "./train_loop.ts";

/** Seconds as `42s`, `3m05s` or `1h20m`. */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return "?";
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function fmt(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits);
}

/** Prints throttled progress lines to stderr and estimates the whole run's remaining time. */
export class ProgressPrinter {
  private readonly lastPrinted = new Map<number, number>();
  private readonly state = new Map<number, MemberProgress>();

  constructor(
    private readonly everyMs: number,
    private readonly totalSteps: number,
    private readonly members: number[],
    private readonly maxSteps: number,
    private readonly workers: number,
  ) {}

  report(p: MemberProgress): void {
    this.state.set(p.member, p);
    if (this.everyMs <= 0) return;
    const now = performance.now();
    const last = this.lastPrinted.get(p.member) ?? -Infinity;
    if (now - last < this.everyMs && p.step !== p.maxSteps) return;
    this.lastPrinted.set(p.member, now);
    const width = String(p.maxSteps).length;
    console.error(
      `member ${p.member}  step ${String(p.step).padStart(width)}/${p.maxSteps}  ` +
        `loss ${fmt(p.loss)}  rate ${fmt(p.rate)}  distortion ${fmt(p.distortion)}  ` +
        `lr ${p.lr.toExponential(2)}  ${p.examplesPerSec.toFixed(0)} ex/s  ` +
        `ETA ${formatDuration(p.etaSec)}  (all: ${this.overall()})`,
    );
  }

  /** "37%, ETA 6m10s": remaining steps of every member over the steps/s of the slots in use. */
  private overall(): string {
    let done = 0;
    let remaining = 0;
    let secPerStep = 0;
    let n = 0;
    for (const m of this.members) {
      const p = this.state.get(m);
      const step = p?.step ?? 0;
      done += step;
      remaining += this.maxSteps - step;
      if (p && p.examplesPerSec > 0 && p.step < p.maxSteps) {
        secPerStep += p.etaSec / Math.max(1, p.maxSteps - p.step);
        n++;
      }
    }
    const pct = Math.round((100 * done) / Math.max(1, this.totalSteps));
    if (n === 0) return `${pct}%`;
    const eta = (remaining * (secPerStep / n)) / Math.min(this.workers, this.members.length);
    return `${pct}%, ETA ${formatDuration(eta)}`;
  }
}

/** The summary table printed at the end of training. */
export function summaryTable(members: MemberSummary[]): string {
  const header = [
    "member",
    "seed",
    "status",
    "steps",
    "loss",
    "rate",
    "distortion",
    "ex/s",
    "time",
  ];
  const rows = members.map((m) => [
    String(m.member),
    String(m.seed),
    m.status,
    `${m.startStep}→${m.endStep}/${m.maxSteps}`,
    fmt(m.loss),
    fmt(m.rate),
    fmt(m.distortion),
    m.examplesPerSec === null ? "-" : m.examplesPerSec.toFixed(0),
    formatDuration(m.seconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
