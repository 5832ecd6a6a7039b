/** The training run the data-parallel test performs with 1 and with 2 processes. */
import { manualSeed, SGD, type Tensor, tensor } from "@hearth/tensor";
import type { Accelerator } from "../../src/index.ts";
import { corpus, lmLoss, TinyGpt } from "./tiny-gpt.ts";

export const config = { vocab: 24, ctx: 16, width: 32, heads: 2, layers: 1 };
const GLOBAL_BATCH = 8;
const T = 12;
const MICRO_BATCHES = 6;

/** Global batches of ids [8, 13]. */
export function batches(): Tensor[] {
  const stream = corpus(MICRO_BATCHES * GLOBAL_BATCH * (T + 1), config.vocab, 11);
  const n = GLOBAL_BATCH * (T + 1);
  return Array.from({ length: MICRO_BATCHES }, (_, s) =>
    tensor(Int32Array.from(stream.slice(s * n, (s + 1) * n)), { shape: [GLOBAL_BATCH, T + 1] }).to("int64"),
  );
}

/** Trains with `acc` (splitBatches, 2 micro-batches per step); returns the model and the gathered first-token ids. */
// SGD with momentum, not Adam: Adam's first steps are about lr·sign(g), so gradients that differ
// in the last bit around zero (summation order across processes) flip whole steps and the
// parameters would differ by ~lr while being equally correct.
// `hooks.from` skips the first micro-batches (resuming from a saved state, `hooks.resume`);
// `hooks.each` runs after every micro-batch (1-based count) and may end the run by returning true.
export async function train(
  acc: Accelerator,
  hooks: { from?: number; resume?: string; each?: (n: number) => Promise<boolean | undefined> } = {},
): Promise<{ model: TinyGpt; gathered: number[][] }> {
  manualSeed(99 + acc.processIndex * 1000); // replicas start different: prepare() must make them equal
  const net = new TinyGpt(config);
  const [model, opt, loader] = await acc.prepare(
    net,
    new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 }),
    batches().slice(hooks.from ?? 0),
  );
  if (hooks.resume) await acc.loadState(hooks.resume);
  const gathered: number[][] = [];
  let n = hooks.from ?? 0;
  for (const ids of loader) {
    await acc.accumulate(model, async () => {
      await acc.backward(lmLoss(model, ids));
      acc.clipGradNorm(model.parameters(), 1.0);
      await opt.step();
      opt.zeroGrad();
    });
    const firsts = await acc.gatherForMetrics(ids.narrow(1, 0, 1).contiguous().to("float32"));
    gathered.push([...firsts.dataSync()].map(Number));
    if (await hooks.each?.(++n)) break;
  }
  return { model, gathered };
}
