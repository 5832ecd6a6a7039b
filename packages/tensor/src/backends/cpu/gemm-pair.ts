/**
 * Paired GEMM timing: with `HEARTH_GEMM_PAIR=A,B[,...]` (GEMM family names as
 * `selectGemmKernel` takes them, e.g. `amx-bf16x3,avx512`, each optionally followed by
 * `:VAR=value,...`, settings of the GEMM's environment switches made for that entry's runs only,
 * e.g. `avx512,avx512:HEARTH_GEMM_FINE=0`; a `:` entry needs `;` between entries:
 * `avx512;avx512:HEARTH_GEMM_FINE=0,HEARTH_GEMM_X=1`) every native matmul runs once under
 * each family, back to back, in an order that rotates from call to call, and the time of each
 * run is kept per product shape. On a machine whose speed drifts by 2-3× over seconds (a shared
 * virtual machine), two families timed in separate runs or steps compare the machine's moods as
 * much as the kernels; timed on the same call, a few milliseconds apart, they meet the same
 * conditions. The product's output is the last run's (every family computes the same product
 * to float32 accuracy; a product with beta 0 overwrites C, so running it again is harmless).
 * Off (the default), it costs one `null` check per matmul.
 *
 * @example
 * // HEARTH_GEMM_PAIR=amx-bf16x3,avx512 node --import tsx bench/train.ts --modes full --no-peer
 * console.log(gemmPairReport()); // per shape: each family's median and total ms, and the ratio
 */
import { type NativeAddon, native } from "../../native/index.ts";

/** The families paired now (initially from `HEARTH_GEMM_PAIR`); null when pairing is off. */
export let GEMM_PAIR: readonly string[] | null = process.env.HEARTH_GEMM_PAIR
  ? process.env.HEARTH_GEMM_PAIR.split(process.env.HEARTH_GEMM_PAIR.includes(";") ? ";" : ",").filter((f) => f !== "")
  : null;

/**
 * Pairs the given GEMM families from now on (null: off, which re-selects the automatic GEMM
 * choice), forgetting earlier timings; returns the previous setting. The families must be names
 * `selectGemmKernel` accepts here. While pairing, the family that ran a product last stays
 * selected.
 *
 * @example
 * setGemmPair(["amx-bf16x3", "avx512"]); // then run a training step and print gemmPairReport()
 */
export function setGemmPair(families: readonly string[] | null): readonly string[] | null {
  const was = GEMM_PAIR;
  GEMM_PAIR = families && families.length > 0 ? [...families] : null;
  runs.clear();
  clearPairedVars();
  if (!GEMM_PAIR && was) native?.selectGemmKernel("");
  return was;
}

/** Per product key, per family: the milliseconds of each run. */
const runs = new Map<string, number[][]>();
let turn = 0;

/**
 * Runs `product` once under each paired family (rotating which goes first), recording each
 * run's time under `key`; leaves the family that ran last selected.
 */
export function pairedGemm(addon: NativeAddon, key: string, product: () => void): void {
  const families = GEMM_PAIR;
  if (!families) {
    product();
    return;
  }
  turn = (turn + 1) % families.length;
  let times = runs.get(key);
  if (!times) {
    times = families.map(() => []);
    runs.set(key, times);
  }
  for (let i = 0; i < families.length; i++) {
    const f = (turn + i) % families.length;
    select(addon, families[f] as string);
    const t0 = performance.now();
    product();
    (times[f] as number[]).push(performance.now() - t0);
  }
}

/** Environment variables some paired entry sets (`family:VAR=value,...`), cleared for the others. */
let pairedVars: string[] = [];

function clearPairedVars(): void {
  for (const v of pairedVars) delete process.env[v];
  pairedVars = [];
}

/**
 * Selects a paired entry: a family name, optionally followed by `:VAR=value,...` settings of the
 * native GEMM's environment switches (read on every call, e.g. `avx512:HEARTH_GEMM_FINE=0`), so
 * two ways of cutting the same family's products can be paired too.
 */
function select(addon: NativeAddon, entry: string): void {
  const [family, settings] = entry.split(":") as [string, string | undefined];
  clearPairedVars();
  for (const kv of (settings ?? "").split(",").filter((x) => x !== "")) {
    const [k, v] = kv.split("=") as [string, string | undefined];
    process.env[k] = v ?? "";
    pairedVars.push(k);
  }
  addon.selectGemmKernel(family);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * The paired timings since the last reset: one row per product key (largest total first) with
 * each family's median and total milliseconds and its total over the first family's, then the
 * totals over all products. Empty when pairing is off or nothing ran.
 */
export function gemmPairReport(): string {
  if (!GEMM_PAIR || runs.size === 0) return "";
  const families = GEMM_PAIR;
  const sums = families.map(() => 0);
  const rows = [...runs].sort((a, b) => total(b[1][0] as number[]) - total(a[1][0] as number[]));
  const lines = [`paired GEMM runs (HEARTH_GEMM_PAIR): median / total ms per family, total ÷ ${families[0]}'s`];
  for (const [key, times] of rows) {
    const base = total(times[0] as number[]);
    const cells = times.map((t, f) => {
      sums[f] = (sums[f] as number) + total(t);
      return `${families[f]} ${median(t).toFixed(2)} / ${total(t).toFixed(0)} (${(total(t) / base).toFixed(2)})`;
    });
    lines.push(`  ${key.padEnd(30)} ×${(times[0] as number[]).length}  ${cells.join("  ")}`);
  }
  const base = sums[0] as number;
  lines.push(
    `  all products: ${families.map((f, i) => `${f} ${(sums[i] as number).toFixed(0)} ms (${((sums[i] as number) / base).toFixed(3)})`).join(", ")}`,
  );
  return lines.join("\n");
}

/** Forgets the paired timings recorded so far. */
export function gemmPairReset(): void {
  runs.clear();
}
