// Weight-only bfloat16 (`fromPretrained(dir, { weightsDtype })`): the matmul weights are stored
// in 16 bits, everything else stays float32, and logits stay within bfloat16 precision of the
// float32 model's, on GPT-2 (Conv1D, tied head) and Llama (Linear, grouped-query heads).
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Tensor, tensor } from "@hearth/tensor";
import { HF_TINY, loadGolden } from "../../test/golden.ts";
import { AutoModelForCausalLM } from "../models/auto.ts";

const values = (t: Tensor) => Array.from(t.to("float32").dataSync() as Float32Array);

for (const family of ["gpt2", "llama"]) {
  test(`${family}: weightsDtype bfloat16 stores matmul weights in bf16 and keeps logits close`, async () => {
    const dir = `${HF_TINY}models/${family}`;
    const full = await AutoModelForCausalLM.fromPretrained(dir);
    const low = await AutoModelForCausalLM.fromPretrained(dir, { weightsDtype: "bfloat16" });
    const dtypes = new Map(low.namedParameters().map(([n, t]) => [n, t.dtype]));
    const matmulWeights = [...dtypes].filter(([n]) => /(proj|attn|fc|mlp)\.weight$|_proj\.weight$/.test(n));
    assert.ok(matmulWeights.length > 0);
    for (const [n, d] of matmulWeights) assert.equal(d, "bfloat16", n);
    for (const [n, d] of dtypes) if (/norm|ln_|\.bias$|embed|wte|wpe/.test(n)) assert.equal(d, "float32", n);
    const ids = tensor(loadGolden(family).json.input_ids as unknown as number[][], { dtype: "int64" });
    const want = values(full.forward({ inputIds: ids }).logits);
    const got = low.forward({ inputIds: ids }).logits;
    assert.equal(got.dtype, "float32");
    const g = values(got);
    const scale = Math.max(...want.map(Math.abs));
    const worst = Math.max(...want.map((w, i) => Math.abs(w - (g[i] as number))));
    assert.ok(worst < 0.05 * scale, `worst difference ${worst} vs logit scale ${scale}`);
    assert.ok(worst > 0, "the bf16 weights must actually be used");
  });
}

test("weightsDtype rejects a non-16-bit dtype", async () => {
  await assert.rejects(
    AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`, { weightsDtype: "int8" as "bfloat16" }),
    { code: "HEARTH_MODEL_BAD_INPUT" },
  );
});
