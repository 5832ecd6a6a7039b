/**
 * An op profiler for finding where a step spends its time, switched on with the environment
 * variable `HEARTH_PROFILE=1` (read once at load; zero cost when off). The dispatcher times
 * every kernel call and the `cpu` backend marks calls that fell back to a `js` reference
 * kernel. `profileReport()` returns the table (and, with `HEARTH_PROFILE=1`, it is printed to
 * stderr when the process exits).
 *
 * Rows are keyed `op` in the forward pass and `op (bwd)` under `noGrad` (backward formulas run
 * there), with `[js]` appended when the call went to the js reference kernel.
 *
 * @example
 * // HEARTH_PROFILE=1 node --import tsx train.ts
 * import { profileReport, profileReset } from "@hearth/tensor";
 * profileReset(); step(); console.log(profileReport());
 */

/** True when `HEARTH_PROFILE` is set to something other than "" or "0". */
export const PROFILING = !!process.env.HEARTH_PROFILE && process.env.HEARTH_PROFILE !== "0";

interface Row {
  calls: number;
  ms: number;
  elements: number;
}

const rows = new Map<string, Row>();
let fellBack = false;

/** Called by a backend when a kernel delegated to the js reference (only while profiling). */
export function markFallback(): void {
  fellBack = true;
}

/** Starts timing one kernel call; returns the start time. */
export function profileStart(): number {
  fellBack = false;
  return performance.now();
}

/** Ends timing one kernel call of `op` that produced `elements` output elements. */
export function profileEnd(op: string, backward: boolean, start: number, elements: number): void {
  const key = `${op}${backward ? " (bwd)" : ""}${fellBack ? " [js]" : ""}`;
  let row = rows.get(key);
  if (!row) {
    row = { calls: 0, ms: 0, elements: 0 };
    rows.set(key, row);
  }
  row.calls++;
  row.ms += performance.now() - start;
  row.elements += elements;
}

/** Forgets everything measured so far. */
export function profileReset(): void {
  rows.clear();
}

/** The measured kernels, slowest first, as a printable table. */
export function profileReport(): string {
  const sorted = [...rows.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = sorted.reduce((s, [, r]) => s + r.ms, 0);
  const lines = [`${"op".padEnd(28)} ${"calls".padStart(7)} ${"ms".padStart(10)} ${"%".padStart(6)}  Melem`];
  for (const [key, r] of sorted) {
    lines.push(
      `${key.padEnd(28)} ${String(r.calls).padStart(7)} ${r.ms.toFixed(1).padStart(10)} ${((100 * r.ms) / total).toFixed(1).padStart(6)}  ${(r.elements / 1e6).toFixed(1)}`,
    );
  }
  lines.push(`${"total in kernels".padEnd(28)} ${"".padStart(7)} ${total.toFixed(1).padStart(10)}`);
  return lines.join("\n");
}

if (PROFILING) process.on("exit", () => process.stderr.write(`${profileReport()}\n`));
