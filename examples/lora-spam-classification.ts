/**
 * LoRA for sequence classification: spam or ham on SpamAssassin mails (subject + body).
 * A small GPT-2 is first trained briefly as a language model on the training mails (the base
 * model), then frozen; LoRA adapters on its attention, MLP and embedding plus a trained
 * `score` head learn the classes. Reports held-out accuracy, and saves the adapter in PEFT's
 * format.
 *
 *   node --import tsx examples/lora-spam-classification.ts [--pretrain-steps 200] [--epochs 4] [--tokens 64]
 *     [--embd 64] [--layers 2] [--seed 7] [--out /tmp/hearth-spam-lora]
 *
 * Mails come from ../shared/data/datasets/classification/spam-assassin/{spam-2,easy-ham-2}
 * (2,796 raw mails) when present, else from fixtures/data/datasets/classification/
 * spam-assassin-sample-600.jsonl.gz (300 spam + 300 ham drawn from those folders).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { getPeftModel, LoraConfig } from "@hearth/peft";
import { manualSeed } from "@hearth/tensor";
import {
  AutoTokenizer,
  dataCollatorForLanguageModeling,
  dataCollatorWithPadding,
  GPT2Config,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  Trainer,
  TrainingArguments,
} from "@hearth/transformers";
import { FIXTURES, flag, SHARED } from "./lib/paths.ts";
import { TrimmedVocab } from "./lib/vocab.ts";

const pretrainSteps = flag("pretrain-steps", 200);
const epochs = flag("epochs", 4);
const out = flag("out", "/tmp/hearth-spam-lora");
const maxTokens = flag("tokens", 64);
const nEmbd = flag("embd", 64);
const nLayer = flag("layers", 2);
const seed = flag("seed", 7);

/** Subject and body of a raw RFC-822 mail, tags and extra whitespace removed. */
function mailText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const header = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split);
  const subject = /^Subject:(.*)$/im.exec(header)?.[1]?.trim() ?? "";
  const clean = body
    .replace(/<[^>]*>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return `Subject: ${subject}\n${clean}`.slice(0, 600);
}

/** Every mail of ../shared's two SpamAssassin folders, else the repository's 600-mail sample. */
function loadMails(): { text: string; label: number }[] {
  const dir = join(SHARED, "data/datasets/classification/spam-assassin");
  if (existsSync(dir)) {
    const folders = [
      ["spam-2", 1],
      ["easy-ham-2", 0],
    ] as const;
    return folders.flatMap(([folder, label]) =>
      readdirSync(join(dir, folder))
        .sort()
        .map((f) => ({ text: readFileSync(join(dir, folder, f), "latin1"), label })),
    );
  }
  const lines = gunzipSync(
    readFileSync(join(FIXTURES, "data/datasets/classification/spam-assassin-sample-600.jsonl.gz")),
  ).toString("utf8");
  return lines
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { text: string; label: number });
}
const mails = loadMails();
const tok = await AutoTokenizer.fromPretrained(join(FIXTURES, "data/tokenizers/gpt2"), {
  fileNames: { "vocab.json": "encoder.json.gz", "merges.txt": "vocab.bpe.gz" },
});
// deterministic shuffle, then 80 % train / 20 % held out
const order = mails
  .map((_, i) => i)
  .sort((a, b) => ((a * 7919) % (mails.length + 1)) - ((b * 7919) % (mails.length + 1)));
const encoded = order.map((i) => ({
  ids: tok.encode(mailText((mails[i] as { text: string }).text)).slice(0, maxTokens),
  label: (mails[i] as { label: number }).label,
}));
const nTrain = Math.floor(encoded.length * 0.8);
const vocab = new TrimmedVocab(
  encoded.slice(0, nTrain).flatMap((e) => e.ids),
  1024,
);
const rows = encoded.map((e) => ({ input_ids: vocab.encode(e.ids), label: e.label }));
const train = rows.slice(0, nTrain);
const test = rows.slice(nTrain);
console.log(
  `${train.length} training mails, ${test.length} held out (${test.filter((r) => r.label === 1).length} spam)`,
);

// a padding id of its own (id 0 is the trimmed vocabulary's "other" token, a real token): the
// classifier pools each mail at its last token that is not pad_token_id, as Python does
const PAD = vocab.size;
manualSeed(seed);
const config = new GPT2Config({
  vocab_size: vocab.size + 1,
  n_positions: maxTokens,
  n_embd: nEmbd,
  n_layer: nLayer,
  n_head: nEmbd / 16,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
  pad_token_id: PAD,
  num_labels: 2,
});

// 1. the base: a language model trained briefly on the training mails' text
const lm = new GPT2LMHeadModel(config);
if (pretrainSteps > 0) {
  await new Trainer({
    model: lm,
    args: new TrainingArguments({
      outputDir: join(out, "pretrain"),
      maxSteps: pretrainSteps,
      perDeviceTrainBatchSize: 16,
      learningRate: 3e-3,
      warmupSteps: 4,
      loggingSteps: 10,
      saveStrategy: "no",
      seed,
    }),
    trainDataset: train.map((r) => ({ input_ids: r.input_ids })),
    dataCollator: dataCollatorForLanguageModeling({ padTokenId: PAD }),
  }).train();
}
await lm.savePretrained(join(out, "base"));

// 2. LoRA + a trained score head on the frozen base. The head is new (Python's from_pretrained
// would initialise it with a warning; Hearth's fromPretrained insists on every weight), so
// the classifier is built here (Python's initialisation) and takes the language model's
// transformer weights.
const base = new GPT2ForSequenceClassification(config);
base.transformer.loadStateDict(lm.transformer.stateDict());
const model = getPeftModel(
  base,
  new LoraConfig({
    taskType: "SEQ_CLS",
    r: 8,
    loraAlpha: 16,
    targetModules: ["c_attn", "attn.c_proj", "c_fc", "wte"],
    loraDropout: 0.05,
  }),
);
model.printTrainableParameters();
const accuracy = ({ predictions, labelIds }: { predictions: unknown[]; labelIds: unknown[] }) => {
  const pred = (predictions as number[][]).map((r) => ((r[1] as number) > (r[0] as number) ? 1 : 0));
  return { accuracy: pred.filter((p, i) => p === labelIds[i]).length / pred.length };
};
const trainer = new Trainer({
  model,
  args: new TrainingArguments({
    outputDir: out,
    numTrainEpochs: epochs,
    perDeviceTrainBatchSize: 16,
    perDeviceEvalBatchSize: 32,
    learningRate: 5e-3,
    warmupRatio: 0.1,
    loggingSteps: 10,
    evalStrategy: "epoch",
    saveStrategy: "no",
    seed,
  }),
  trainDataset: train,
  evalDataset: test,
  dataCollator: dataCollatorWithPadding({ padTokenId: PAD }),
  computeMetrics: accuracy,
});
const t0 = performance.now();
await trainer.train();
const final = await trainer.evaluate();
console.log(
  `\nheld-out accuracy ${(100 * (final.eval_accuracy as number)).toFixed(1)}% (${test.length} mails), eval loss ${final.eval_loss?.toFixed(4)}, ${((performance.now() - t0) / 1000).toFixed(0)} s of LoRA training`,
);
await model.savePretrained(join(out, "adapter"));
console.log(`adapter saved to ${join(out, "adapter")} (adapter_config.json + adapter_model.safetensors)`);
