// bf16 mixed precision: matmuls and attention in bfloat16 (float32 accumulation), float32
// master weights, norms and loss in float32. Training the tiny GPT from the same start follows
// the float32 loss curve closely; the gap is printed as a test diagnostic.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AdamW, manualSeed, tensor } from "@hearth/tensor";
import { Accelerator, type MixedPrecision } from "../src/index.ts";
import { corpus, lmLoss, TinyGpt } from "./helpers/tiny-gpt.ts";

const config = { vocab: 24, ctx: 32, width: 64, heads: 4, layers: 2 };
const STEPS = 20;
const B = 4;
const T = 16;

function batches(): ReturnType<typeof tensor>[] {
  const stream = corpus(STEPS * B * (T + 1), config.vocab, 7);
  return Array.from({ length: STEPS }, (_, s) =>
    tensor(Int32Array.from(stream.slice(s * B * (T + 1), (s + 1) * B * (T + 1))), { shape: [B, T + 1] }).to("int64"),
  );
}

async function curve(mixedPrecision: MixedPrecision): Promise<{ losses: number[]; dtypes: Set<string> }> {
  manualSeed(1234);
  const net = new TinyGpt(config);
  const acc = new Accelerator({ mixedPrecision });
  const [model, opt, loader] = await acc.prepare(net, new AdamW(net.parameters(), { lr: 3e-3 }), batches());
  const losses: number[] = [];
  for (const ids of loader) {
    await acc.accumulate(model, async () => {
      const loss = lmLoss(model, ids);
      losses.push(loss.item());
      await acc.backward(loss);
      opt.step();
      opt.zeroGrad();
    });
  }
  return { losses, dtypes: new Set(net.parameters().map((p) => p.dtype)) };
}

test("bf16 training follows the float32 loss curve (master weights stay float32)", async (t) => {
  const fp32 = await curve("no");
  const bf16 = await curve("bf16");
  assert.deepEqual([...bf16.dtypes], ["float32"]);
  const gaps = fp32.losses.map((l, i) => Math.abs(l - (bf16.losses[i] as number)));
  const maxGap = Math.max(...gaps);
  const meanGap = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  t.diagnostic(
    `fp32 ${fp32.losses[0]?.toFixed(4)} -> ${fp32.losses.at(-1)?.toFixed(4)}, bf16 ${bf16.losses[0]?.toFixed(4)} -> ${bf16.losses.at(-1)?.toFixed(4)}; |gap| max ${maxGap.toFixed(4)}, mean ${meanGap.toFixed(4)}`,
  );
  // both learn
  assert.ok((fp32.losses.at(-1) as number) < 0.6 * (fp32.losses[0] as number), `fp32 did not learn: ${fp32.losses}`);
  // bf16 really ran in bf16 (the curves differ) and stays close to float32
  assert.ok(maxGap > 0, "bf16 gave exactly the float32 losses: autocast did not engage");
  assert.ok(maxGap < 0.08, `max |loss gap| ${maxGap} (fp32 ${fp32.losses}, bf16 ${bf16.losses})`);
  assert.ok(meanGap < 0.03, `mean |loss gap| ${meanGap}`);
});
