/**
 * Train a tiny GPT-2 from scratch on Shakespeare with the GPT-2 tokenizer and the Trainer:
 * validation loss is logged as training goes, and the model writes samples at the end.
 *
 *   node --import tsx examples/tiny-gpt2-shakespeare.ts [--steps 500] [--chars 2000000] [--block 128]
 *     [--vocab 8192] [--layers 4] [--embd 256] [--batch 16] [--lr 2e-3] [--out /tmp/hearth-tiny-gpt2]
 *
 * The defaults train 5.3M parameters for 500 steps (~3.4 epochs of the full text, ~7 minutes on
 * 2 cores). The text comes from ../shared/data/datasets/text/tinyshakespeare.txt when present,
 * else the 200 kB slice in fixtures/. The embedding and output layer cover the corpus's 8,191
 * most frequent GPT-2 tokens (99% of its tokens; see lib/vocab.ts) so that a CPU trains it in
 * minutes instead of paying for 50,257 logits per position.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { manualSeed, tensor } from "@hearth/tensor";
import {
  AutoTokenizer,
  dataCollatorForLanguageModeling,
  GPT2Config,
  GPT2LMHeadModel,
  Trainer,
  TrainingArguments,
} from "@hearth/transformers";
import { dataPath, FIXTURES, flag } from "./lib/paths.ts";
import { TrimmedVocab } from "./lib/vocab.ts";

const steps = flag("steps", 500);
const chars = flag("chars", 2_000_000);
const out = flag("out", "/tmp/hearth-tiny-gpt2");
const block = flag("block", 128);
const vocabSize = flag("vocab", 8192);
const nLayer = flag("layers", 4);
const nEmbd = flag("embd", 256);
const batch = flag("batch", 16);

const textPath =
  dataPath("datasets/text/tinyshakespeare.txt") ?? join(FIXTURES, "data/datasets/text/tinyshakespeare-200k.txt");
const text = readFileSync(textPath, "utf8").slice(0, chars);
const tok = await AutoTokenizer.fromPretrained(join(FIXTURES, "data/tokenizers/gpt2"), {
  fileNames: { "vocab.json": "encoder.json.gz", "merges.txt": "vocab.bpe.gz" },
});
const gpt2Ids = tok.encode(text);
const vocab = new TrimmedVocab(gpt2Ids, vocabSize);
const ids = vocab.encode(gpt2Ids);
const covered = ids.filter((i) => i > 0).length / ids.length;
console.log(
  `${text.length} characters → ${ids.length} GPT-2 tokens; the ${vocabSize - 1} most frequent cover ${(100 * covered).toFixed(1)}%`,
);

const blocks = [];
for (let i = 0; i + block <= ids.length; i += block) blocks.push({ input_ids: ids.slice(i, i + block) });
const nValid = Math.max(16, Math.floor(blocks.length * 0.1));
const train = blocks.slice(0, blocks.length - nValid);
const valid = blocks.slice(blocks.length - nValid).slice(0, 32);

manualSeed(1337);
const config = new GPT2Config({
  vocab_size: vocab.size,
  n_positions: block,
  n_embd: nEmbd,
  n_layer: nLayer,
  n_head: nEmbd / 64,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  pad_token_id: 0,
});
const model = new GPT2LMHeadModel(config);
const nParams = model.parameters().reduce((s, p) => s + p.size, 0);
console.log(
  `GPT-2: ${config.n_layer} layers, n_embd ${config.n_embd}, ${nParams.toLocaleString("en-US")} parameters; ${train.length} training blocks of ${block}`,
);

const trainer = new Trainer({
  model,
  args: new TrainingArguments({
    outputDir: out,
    maxSteps: steps,
    perDeviceTrainBatchSize: batch,
    perDeviceEvalBatchSize: 16,
    learningRate: flag("lr", 2e-3),
    weightDecay: 0.1,
    warmupSteps: Math.ceil(steps / 10),
    lrSchedulerType: "cosine",
    loggingSteps: 10,
    evalStrategy: "steps",
    evalSteps: Math.max(1, Math.floor(steps / 4)),
    saveStrategy: "no",
    seed: 1337,
  }),
  trainDataset: train,
  evalDataset: valid,
  dataCollator: dataCollatorForLanguageModeling({ padTokenId: 0 }),
});
const first = await trainer.evaluate();
const t0 = performance.now();
await trainer.train();
const seconds = (performance.now() - t0) / 1000;
const evals = [first, ...trainer.state.logHistory.filter((l) => l.eval_loss !== undefined)].map(
  (l) => l.eval_loss as number,
);
console.log(
  `\nvalidation loss: ${evals.map((v) => v.toFixed(3)).join(" → ")} (${steps} steps, ${seconds.toFixed(0)} s)`,
);

model.eval();
for (const prompt of ["First Citizen:\n", "The king", "O, "]) {
  const promptIds = vocab.encode(tok.encode(prompt));
  const input = tensor([promptIds], { dtype: "int64" });
  // learned positions end at the block size
  const maxNewTokens = Math.min(40, block - promptIds.length);
  const gen = await model.generate(input, { maxNewTokens, doSample: true, topK: 40, temperature: 0.8 });
  const sample = tok.decode(vocab.decode((gen.tolistSync() as number[][])[0] as number[]));
  console.log(`\n--- sample (${JSON.stringify(prompt)}) ---\n${sample}`);
}
await model.savePretrained(join(out, "final"));
console.log(`\nsaved the model to ${join(out, "final")}`);
