/**
 * An op profiler for finding where a step spends its time, switched on with the environment
 * variable `HEARTH_PROFILE=1` (read once at load; zero cost when off). The dispatcher times
 * every kernel call and the `cpu` backend marks calls that fell back to a `js` reference
 * kernel. `profileReport()` returns the table (and, with `HEARTH_PROFILE=1`, it is printed to
 * stderr when the process exits).
 *
 * Rows are keyed `op` in the forward pass and `op (bwd)` under `noGrad` (backward formulas run
 * there), with `[js]` appended when the call went to the js reference kernel. With
 * `HEARTH_PROFILE=shapes` each row is also split by its inputs' shapes and strides (e.g.
 * `matmul [512,768]x[768,2304]/T`, `/T` marking an input that is not row-major), to see
 * which products or copies a step runs.
 *
 * @example
 * // HEARTH_PROFILE=1 node --import tsx train.ts
 * import { profileReport, profileReset } from "@hearth/tensor";
 * profileReset(); step(); console.log(profileReport());
 */

import { isContiguous } from "../shape.ts";

/** True when `HEARTH_PROFILE` is set to something other than "" or "0". */
export const PROFILING = !!process.env.HEARTH_PROFILE && process.env.HEARTH_PROFILE !== "0";

/** True when `HEARTH_PROFILE=shapes`: rows are keyed by their inputs' shapes too. */
export const PROFILING_SHAPES = process.env.HEARTH_PROFILE === "shapes";

/** `[2,3]x[3,4]/T`: the shapes of a call's inputs, `/T` after one that is not row-major. */
export function shapesKey(inputs: readonly { shape: readonly number[]; strides: readonly number[] }[]): string {
  return inputs.map((v) => `[${v.shape.join(",")}]${isContiguous(v.shape, v.strides) ? "" : "/T"}`).join("x");
}

interface Row {
  calls: number;
  ms: number;
  /** Process CPU time (all threads, user + system): steadier than wall time on a shared machine. */
  cpuMs: number;
  elements: number;
}

const rows = new Map<string, Row>();
/** Whole dispatches (`apply` from entry to return), views and kernel ops apart. */
const dispatch = { calls: 0, ms: 0, views: 0, viewMs: 0 };
/** Views per op name (calls and wall ms), e.g. `reshape`, `permute`, `slice`. */
const views = new Map<string, { calls: number; ms: number }>();
let fellBack = false;
let cpuStart = { user: 0, system: 0 };

/** Called by a backend when a kernel delegated to the js reference (only while profiling). */
export function markFallback(): void {
  fellBack = true;
}

/** Starts timing one kernel call; returns the start time. */
export function profileStart(): number {
  fellBack = false;
  cpuStart = process.cpuUsage();
  return performance.now();
}

/** Ends timing one kernel call of `op` that produced `elements` output elements. */
export function profileEnd(op: string, backward: boolean, start: number, elements: number): void {
  const key = `${op}${backward ? " (bwd)" : ""}${fellBack ? " [js]" : ""}`;
  let row = rows.get(key);
  if (!row) {
    row = { calls: 0, ms: 0, cpuMs: 0, elements: 0 };
    rows.set(key, row);
  }
  row.calls++;
  row.ms += performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  row.cpuMs += (cpu.user + cpu.system) / 1000;
  row.elements += elements;
}

/**
 * Ends timing one whole dispatch (validation, shape inference, allocation, the kernel and the
 * tape), started with `performance.now()`; `view` when it made a view without a kernel.
 */
export function profileDispatch(op: string, view: boolean, start: number): void {
  const ms = performance.now() - start;
  dispatch.calls++;
  dispatch.ms += ms;
  if (view) {
    dispatch.views++;
    dispatch.viewMs += ms;
    let row = views.get(op);
    if (!row) {
      row = { calls: 0, ms: 0 };
      views.set(op, row);
    }
    row.calls++;
    row.ms += ms;
  }
}

/** Forgets everything measured so far. */
export function profileReset(): void {
  rows.clear();
  views.clear();
  dispatch.calls = 0;
  dispatch.ms = 0;
  dispatch.views = 0;
  dispatch.viewMs = 0;
}

/** Totals of what was measured since the last reset (all in ms of wall time). */
export interface ProfileTotals {
  /** Op calls (`apply`), and of those the views (no kernel). */
  calls: number;
  views: number;
  /** Wall time inside `apply`, all of it. */
  dispatchMs: number;
  /** Of which: views (made without a kernel). */
  viewMs: number;
  /** Of which: kernel calls, and allocating their outputs. */
  kernelMs: number;
  allocateMs: number;
  /** Kernel time per op name (the rows' keys, without the allocation rows). */
  kernels: Map<string, { calls: number; ms: number }>;
  /** Views per op name. */
  viewOps: Map<string, { calls: number; ms: number }>;
}

/** The measured totals (see {@link ProfileTotals}); a step's figures divide them by its count. */
export function profileTotals(): ProfileTotals {
  let kernelMs = 0;
  let allocateMs = 0;
  const kernels = new Map<string, { calls: number; ms: number }>();
  for (const [key, r] of rows) {
    if (key.includes("(allocate outputs)")) {
      allocateMs += r.ms;
    } else {
      kernelMs += r.ms;
      kernels.set(key, { calls: r.calls, ms: r.ms });
    }
  }
  return {
    calls: dispatch.calls,
    views: dispatch.views,
    dispatchMs: dispatch.ms,
    viewMs: dispatch.viewMs,
    kernelMs,
    allocateMs,
    kernels,
    viewOps: new Map([...views].map(([op, r]) => [op, { ...r }])),
  };
}

/**
 * The measured kernels, slowest first, as a printable table; calls, times and elements are
 * divided by `per` (the number of steps profiled, for figures per step).
 */
export function profileReport(per = 1): string {
  const sorted = [...rows.entries()]
    .map(([key, r]): [string, Row] => [
      key,
      { calls: r.calls / per, ms: r.ms / per, cpuMs: r.cpuMs / per, elements: r.elements / per },
    ])
    .sort((a, b) => b[1].ms - a[1].ms);
  const total = sorted.reduce((s, [, r]) => s + r.ms, 0);
  const totalCpu = sorted.reduce((s, [, r]) => s + r.cpuMs, 0);
  const width = Math.max(28, ...sorted.map(([key]) => key.length));
  const lines = [
    `${"op".padEnd(width)} ${"calls".padStart(7)} ${"ms".padStart(10)} ${"%".padStart(6)} ${"cpu ms".padStart(10)}  Melem`,
  ];
  for (const [key, r] of sorted) {
    const calls = Number.isInteger(r.calls) ? String(r.calls) : r.calls.toFixed(1);
    lines.push(
      `${key.padEnd(width)} ${calls.padStart(7)} ${r.ms.toFixed(1).padStart(10)} ${((100 * r.ms) / total).toFixed(1).padStart(6)} ${r.cpuMs.toFixed(1).padStart(10)}  ${(r.elements / 1e6).toFixed(1)}`,
    );
  }
  lines.push(
    `${"total in kernels".padEnd(width)} ${"".padStart(7)} ${total.toFixed(1).padStart(10)} ${"".padStart(6)} ${totalCpu.toFixed(1).padStart(10)}`,
  );
  const viewCalls = (dispatch.views / per).toFixed(Number.isInteger(dispatch.views / per) ? 0 : 1);
  const calls = (dispatch.calls / per).toFixed(Number.isInteger(dispatch.calls / per) ? 0 : 1);
  lines.push(
    `${"all op calls (whole dispatch)".padEnd(width)} ${calls.padStart(7)} ${(dispatch.ms / per).toFixed(1).padStart(10)}`,
    `${"  of which views (no kernel)".padEnd(width)} ${viewCalls.padStart(7)} ${(dispatch.viewMs / per).toFixed(1).padStart(10)}`,
  );
  for (const [op, r] of [...views].sort((a, b) => b[1].calls - a[1].calls)) {
    const n = r.calls / per;
    lines.push(
      `${`    ${op}`.padEnd(width)} ${(Number.isInteger(n) ? String(n) : n.toFixed(1)).padStart(7)} ${(r.ms / per).toFixed(1).padStart(10)}`,
    );
  }
  return lines.join("\n");
}

if (PROFILING) process.on("exit", () => process.stderr.write(`${profileReport()}\n`));
