/**
 * Sharding a dataloader across processes. A dataloader here is anything iterable that yields
 * batches: a tensor, a tuple (array) of tensors, an object of tensors (dim 0 is the batch dim),
 * or a plain array of examples (or example indices) that a collator turns into tensors later.
 *
 * - `splitBatches: false` (default, as accelerate): process r takes batches r, r+N, r+2N, …; the
 *   global batch is N times the loader's. A last round with fewer batches than processes is
 *   filled by cycling from the first batches, and {@link PreparedDataLoader.duplicateRanks} says
 *   which ranks hold filler, so `gatherForMetrics` can drop them.
 * - `splitBatches: true`: every batch is cut along dim 0 into N near-equal parts and process r
 *   takes part r; the global batch equals the loader's, so N processes see exactly what one
 *   process would.
 */
import { narrow, type Tensor } from "@hearth/tensor";
import { AccelerateError } from "../errors.ts";

/** One batch: tensors (dim 0 is the batch dim), or a plain list of examples / indices. */
export type Batch = Tensor | readonly Tensor[] | { readonly [key: string]: Tensor } | readonly unknown[];

/** Options of {@link PreparedDataLoader}. */
export interface ShardOptions {
  rank: number;
  worldSize: number;
  splitBatches?: boolean;
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === "object" && x !== null && "storage" in x && "shape" in x;
}

/** A plain list of examples (not a tuple of tensors). */
function isExampleList(b: Batch): b is readonly unknown[] {
  return Array.isArray(b) && !isTensor(b[0]);
}

function mapBatch(b: Batch, fn: (t: Tensor) => Tensor): Batch {
  if (isTensor(b)) return fn(b);
  if (Array.isArray(b)) return (b as readonly Tensor[]).map(fn);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) out[k] = isTensor(v) ? fn(v) : v;
  return out as Batch;
}

function batchSize(b: Batch): number {
  if (isExampleList(b)) return b.length;
  const first = isTensor(b) ? b : Array.isArray(b) ? b[0] : Object.values(b).find(isTensor);
  if (!first || first.ndim === 0) {
    throw new AccelerateError("HEARTH_ACCELERATE_PREPARE", "dataloader: a batch must hold tensors with a batch dim");
  }
  return first.shape[0] as number;
}

/** The part of `b` that rank `rank` of `world` takes when batches are split (first ranks get the remainder). */
export function splitBatch(b: Batch, rank: number, world: number): Batch {
  const n = batchSize(b);
  if (n < world) {
    throw new AccelerateError(
      "HEARTH_ACCELERATE_PREPARE",
      `dataloader: with splitBatches every batch needs at least one row per process (${world}), got a batch of ${n}`,
    );
  }
  const base = Math.floor(n / world);
  const extra = n % world;
  const start = rank * base + Math.min(rank, extra);
  const len = base + (rank < extra ? 1 : 0);
  if (isExampleList(b)) return b.slice(start, start + len);
  return mapBatch(b, (t) => narrow(t, 0, start, len));
}

/** A dataloader sharded for one process. Iterate it like the original. */
export class PreparedDataLoader<B extends Batch = Batch> implements Iterable<B> {
  /** In the round just yielded: ranks that got a filler batch (only in the last round). */
  duplicateRanks: number[] = [];
  /** True once the last batch of an epoch was yielded. */
  endOfDataloader = false;

  constructor(
    readonly base: Iterable<B>,
    readonly opts: ShardOptions,
  ) {}

  *[Symbol.iterator](): Iterator<B> {
    const { rank, worldSize: world } = this.opts;
    this.endOfDataloader = false;
    this.duplicateRanks = [];
    if (this.opts.splitBatches) {
      const it = this.base[Symbol.iterator]();
      let cur = it.next();
      while (!cur.done) {
        const next = it.next();
        this.endOfDataloader = next.done === true;
        yield splitBatch(cur.value, rank, world) as B;
        cur = next;
      }
      return;
    }
    const head: B[] = []; // the first round, kept to fill an incomplete last round
    let round: B[] = [];
    const it = this.base[Symbol.iterator]();
    let cur = it.next();
    while (!cur.done) {
      round.push(cur.value);
      if (head.length < world) head.push(cur.value);
      cur = it.next();
      if (round.length === world || cur.done) {
        const real = round.length;
        this.endOfDataloader = cur.done === true;
        this.duplicateRanks = [];
        for (let r = real; r < world; r++) this.duplicateRanks.push(r);
        const mine = rank < real ? round[rank] : head[(rank - real) % head.length];
        round = [];
        yield mine as B;
      }
    }
  }
}
