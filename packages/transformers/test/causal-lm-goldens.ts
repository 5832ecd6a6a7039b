/**
 * The parity checks every decoder family runs against its hf-tiny golden: logits and every
 * hidden state for one prompt, the left-padded batch (compared where the mask is 1), greedy
 * generation token for token with per-step scores, for one prompt and for the padded batch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor } from "@hearth/tensor";
import { AutoModelForCausalLM, type PreTrainedModelForCausalLM } from "../src/index.ts";
import { assertClose, HF_TINY, loadGolden } from "./golden.ts";

type Rows = number[][];

/** Registers the golden tests for `name` (a folder of fixtures/hf-tiny/models and its golden). */
export function goldenSuite(name: string, expectedClass: string): void {
  const g = loadGolden(name);
  const j = g.json as unknown as Record<string, unknown>;
  let model: PreTrainedModelForCausalLM;
  const load = async () => {
    model ??= await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/${name}`);
    return model;
  };

  test(`${name}: AutoModelForCausalLM picks ${expectedClass}`, async () => {
    assert.equal((await load()).constructor.name, expectedClass);
  });

  test(`${name}: logits and every hidden state match Python within 1e-4`, async () => {
    const m = await load();
    const out = m.forward({ inputIds: tensor(j.input_ids as Rows, { dtype: "int64" }), outputHiddenStates: true });
    assert.deepEqual(out.logits.shape, g.shape("logits"));
    assertClose(out.logits, g.tensor("logits"), "logits");
    const hs = out.hiddenStates ?? [];
    const layers = Object.keys((j.tensors as object) ?? {}).filter((k) => k.startsWith("hidden_states.")).length;
    assert.equal(hs.length, layers, "one hidden state per layer plus the embeddings");
    hs.forEach((h, i) => {
      assertClose(h, g.tensor(`hidden_states.${i}`), `hidden_states.${i}`);
    });
    const flat = out.logits.dataSync() as Float32Array;
    const V = out.logits.shape[2] as number;
    const last = flat.subarray(flat.length - V);
    assert.equal(last.indexOf(Math.max(...last)), j.argmax_last_position);
  });

  test(`${name}: the left-padded batch matches Python where the mask is 1`, async () => {
    const m = await load();
    const mask = j.padded_batch_attention_mask as Rows;
    const out = m.forward({
      inputIds: tensor(j.padded_batch_input_ids as Rows, { dtype: "int64" }),
      attentionMask: tensor(mask, { dtype: "int64" }),
      positionIds: tensor(j.padded_batch_position_ids as Rows, { dtype: "int64" }),
    });
    const [, T, V] = out.logits.shape as [number, number, number];
    const flatMask = mask.flat();
    assertClose(
      out.logits,
      g.tensor("padded_batch_logits"),
      "padded_batch_logits",
      1e-4,
      (i) => flatMask[Math.floor(i / V) % (T * 2)] === 1,
    );
    const nan = (out.logits.dataSync() as Float32Array).some((x) => !Number.isFinite(x));
    assert.equal(nan, false, "padding rows stay finite");
  });

  test(`${name}: greedy generation matches Python token for token, with its scores`, async () => {
    const m = await load();
    const out = await m.generate(tensor(j.generate_input_ids as Rows, { dtype: "int64" }), {
      maxNewTokens: 20,
      padTokenId: 0,
      outputScores: true,
      returnDictInGenerate: true,
    });
    assert.deepEqual(out.sequences.tolistSync(), j.generate_sequences);
    const scores = out.scores ?? [];
    assert.equal(scores.length, 20);
    const expected = g.tensor("generate_scores");
    const V = scores[0]?.shape[1] as number;
    scores.forEach((s, step) => {
      assertClose(s, expected.subarray(step * V, (step + 1) * V), `generate_scores step ${step}`);
    });
  });

  test(`${name}: batched greedy generation with left padding matches Python`, async () => {
    const m = await load();
    const seqs = await m.generate(tensor(j.generate_padded_batch_input_ids as Rows, { dtype: "int64" }), {
      attentionMask: tensor(j.generate_padded_batch_attention_mask as Rows, { dtype: "int64" }),
      maxNewTokens: 20,
      padTokenId: 0,
    });
    assert.deepEqual(seqs.tolistSync(), j.generate_padded_batch_sequences);
  });

  test(`${name}: generation without the KV cache gives the same tokens as with it`, async () => {
    const m = await load();
    const ids = tensor(j.generate_input_ids as Rows, { dtype: "int64" });
    const a = await m.generate(ids, { maxNewTokens: 6, useCache: false });
    assert.deepEqual(
      a.tolistSync(),
      (j.generate_sequences as Rows).map((r) => r.slice(0, ((j.generate_input_ids as Rows)[0] as number[]).length + 6)),
    );
  });
}
