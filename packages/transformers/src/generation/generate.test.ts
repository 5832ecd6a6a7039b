import assert from "node:assert/strict";
import { before, test } from "node:test";
import { logSoftmax, manualSeed, noGrad, type Tensor, tensor } from "@hearth/tensor";
import { HF_TINY } from "../../test/golden.ts";
import { GPT2LMHeadModel } from "../models/gpt2/index.ts";
import { badWords, minP, noRepeatNgram, repetitionPenalty, topK, topP } from "./logits-process.ts";
import { TextStreamer } from "./streamer.ts";

let model: GPT2LMHeadModel;
const prompt = () => tensor([[5, 17, 42, 99, 123, 7, 256, 511]], { dtype: "int64" });
// Python's greedy continuation of `prompt` (fixtures/hf-tiny/goldens/gpt2.json).
const GREEDY = [703, 703, 546, 744, 744, 546, 800, 57];
const fakeTokenizer = { decode: (ids: number[]) => ids.map((i) => `<${i}>`).join("") };

before(async () => {
  model = await GPT2LMHeadModel.fromPretrained(`${HF_TINY}models/gpt2`);
});

const rows = (t: Tensor) => t.tolistSync() as number[][];

test("processors: top-k, top-p and min-p keep what Python keeps", () => {
  const s = () => Float32Array.from([1, 3, 2, 0, 3]);
  const a = s();
  topK(2)(a, { tokens: [], newTokens: 0 });
  assert.deepEqual([...a], [-Infinity, 3, -Infinity, -Infinity, 3]);
  const probs = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  topP(0.75)(probs, { tokens: [], newTokens: 0 });
  assert.deepEqual(
    [...probs].map((x) => x === -Infinity),
    [false, false, true, true],
  );
  const m = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  minP(0.4)(m, { tokens: [], newTokens: 0 });
  assert.deepEqual(
    [...m].map((x) => x === -Infinity),
    [false, false, true, true],
  );
});

test("processors: repetition penalty, no-repeat n-gram and bad words", () => {
  const r = Float32Array.from([2, -2, 1]);
  repetitionPenalty(2)(r, { tokens: [0, 1, 0], newTokens: 0 });
  assert.deepEqual([...r], [1, -4, 1]);
  const n = new Float32Array(10);
  noRepeatNgram(2)(n, { tokens: [1, 2, 3, 1], newTokens: 0 });
  assert.equal(n[2], -Infinity);
  assert.equal([...n].filter((x) => x === -Infinity).length, 1);
  const b = new Float32Array(10);
  badWords([[4], [1, 5], [2, 6]])(b, { tokens: [7, 1], newTokens: 0 });
  assert.deepEqual(
    [...b].map((x, i) => (x === -Infinity ? i : -1)).filter((i) => i >= 0),
    [4, 5],
  );
});

test("generate: EOS ends a row, later tokens of finished rows are padding", async () => {
  const eos = GREEDY[2] as number;
  const out = await model.generate(tensor([[5, 17, 42, 99, 123, 7, 256, 511]], { dtype: "int64" }), {
    maxNewTokens: 8,
    eosTokenId: eos,
    padTokenId: 0,
  });
  assert.deepEqual(rows(out)[0]?.slice(8), GREEDY.slice(0, 3));
});

test("generate: minNewTokens bans EOS until enough tokens exist", async () => {
  const out = await model.generate(prompt(), { maxNewTokens: 3, minNewTokens: 3, eosTokenId: GREEDY[0] as number });
  const fresh = rows(out)[0]?.slice(8) ?? [];
  assert.equal(fresh.length, 3);
  assert.ok(!fresh.includes(GREEDY[0] as number));
});

test("generate: maxLength counts the prompt; unknown options are errors", async () => {
  const out = await model.generate(prompt(), { maxLength: 11 });
  assert.deepEqual(rows(out)[0]?.slice(8), GREEDY.slice(0, 3));
  await assert.rejects(model.generate(prompt(), { maxNewToken: 3 } as never), /unknown option 'maxNewToken'/);
  await assert.rejects(model.generate(prompt(), { numBeams: 0 }), /numBeams must be a positive integer/);
});

test("sampling: reproducible under manualSeed; top-k 1 is greedy", async () => {
  manualSeed(123);
  const a = rows(await model.generate(prompt(), { maxNewTokens: 8, doSample: true, temperature: 1.5 }));
  manualSeed(123);
  const b = rows(await model.generate(prompt(), { maxNewTokens: 8, doSample: true, temperature: 1.5 }));
  assert.deepEqual(a, b);
  const k1 = rows(await model.generate(prompt(), { maxNewTokens: 8, doSample: true, topK: 1 }));
  assert.deepEqual(k1[0]?.slice(8), GREEDY);
  const many = rows(await model.generate(prompt(), { maxNewTokens: 4, doSample: true, numReturnSequences: 3 }));
  assert.equal(many.length, 3);
});

/** Sum of log-probabilities of `seq`'s tokens after position `from`, by a full forward pass. */
function logProb(seq: number[], from: number): number {
  return noGrad(() => {
    const lp = logSoftmax(model.forward({ inputIds: tensor([seq], { dtype: "int64" }) }).logits, -1);
    const flat = lp.dataSync() as Float32Array;
    const V = lp.shape[2] as number;
    let s = 0;
    for (let t = from; t < seq.length; t++) s += flat[(t - 1) * V + (seq[t] as number)] as number;
    return s;
  });
}

test("beam search: scores are the length-normalised log-probabilities and beat greedy", async () => {
  const out = await model.generate(prompt(), {
    maxNewTokens: 6,
    numBeams: 4,
    numReturnSequences: 2,
    eosTokenId: null,
    returnDictInGenerate: true,
  });
  const seqs = rows(out.sequences);
  assert.equal(seqs.length, 2);
  const scores = out.sequencesScores?.dataSync() as Float32Array;
  seqs.forEach((s, i) => {
    assert.ok(Math.abs(logProb(s, 8) / 6 - (scores[i] as number)) < 1e-4, `beam ${i} score`);
  });
  assert.ok((scores[0] as number) >= (scores[1] as number));
  assert.ok(
    (scores[0] as number) >= logProb([...(rows(prompt())[0] as number[]), ...GREEDY.slice(0, 6)], 8) / 6 - 1e-6,
  );
  const noCache = rows(
    await model.generate(prompt(), {
      maxNewTokens: 6,
      numBeams: 4,
      numReturnSequences: 2,
      eosTokenId: null,
      useCache: false,
    }),
  );
  assert.deepEqual(noCache, seqs, "the reordered KV cache gives what recomputing gives");
});

test("beam search: batched with left padding equals each prompt alone", async () => {
  const a = [31, 415, 9, 77, 600];
  const b = [5, 17, 42, 99, 123, 7, 256, 511];
  const batch = rows(
    await model.generate(tensor([[0, 0, 0, ...a], b], { dtype: "int64" }), {
      attentionMask: tensor(
        [
          [0, 0, 0, 1, 1, 1, 1, 1],
          [1, 1, 1, 1, 1, 1, 1, 1],
        ],
        { dtype: "int64" },
      ),
      maxNewTokens: 5,
      numBeams: 3,
      eosTokenId: null,
    }),
  );
  const alone = rows(
    await model.generate(tensor([a], { dtype: "int64" }), { maxNewTokens: 5, numBeams: 3, eosTokenId: null }),
  );
  assert.deepEqual(batch[0]?.slice(8), alone[0]?.slice(5));
});

test("streamer and stop strings", async () => {
  const puts: number[][][] = [];
  let ended = 0;
  await model.generate(prompt(), {
    maxNewTokens: 3,
    streamer: {
      put: (ids) => {
        puts.push(ids);
      },
      end: () => {
        ended++;
      },
    },
  });
  assert.deepEqual(puts[0], rows(prompt()));
  assert.deepEqual(
    puts.slice(1).map((p) => p[0]?.[0]),
    GREEDY.slice(0, 3),
  );
  assert.equal(ended, 1);

  const out = await model.generate(prompt(), {
    maxNewTokens: 8,
    stopStrings: `<${GREEDY[2]}>`,
    tokenizer: fakeTokenizer,
  });
  assert.deepEqual(rows(out)[0]?.slice(8), GREEDY.slice(0, 3));
  await assert.rejects(model.generate(prompt(), { maxNewTokens: 2, stopStrings: "x" }), /needs the 'tokenizer' option/);

  let text = "";
  const words = { decode: (ids: number[]) => ids.map((i) => `w${i} `).join("") };
  const streamer = new TextStreamer(
    words,
    (t) => {
      text += t;
    },
    { skipPrompt: true },
  );
  await model.generate(prompt(), { maxNewTokens: 3, streamer });
  assert.equal(
    text,
    GREEDY.slice(0, 3)
      .map((i) => `w${i} `)
      .join(""),
  );
});
