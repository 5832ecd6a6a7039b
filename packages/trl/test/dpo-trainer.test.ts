/**
 * DPOTrainer through the Trainer: DPO metrics in the log lines, checkpoints that are PEFT
 * adapter folders, an exact resume, precomputed reference log-probs equal to the on-the-fly
 * ones, a frozen-copy reference, and text records (implicit prompt) through a tokenizer.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getPeftModel, LoraConfig } from "@hearth/peft";
import { manualSeed } from "@hearth/tensor";
import { AutoModelForCausalLM, AutoTokenizer } from "@hearth/transformers";
import {
  DPOConfig,
  DPOTrainer,
  dpoCollator,
  dpoStep,
  ErrorCodes,
  splitImplicitPrompt,
  tokenizePair,
} from "../src/index.ts";
import { FIXTURES, HF_TINY } from "./helpers.ts";

const pairs = Array.from({ length: 8 }, (_, i) => {
  const p = [3 + i, 40 + i, 7];
  return {
    prompt_input_ids: p,
    chosen_input_ids: [...p, 100 + i, 101, 2],
    rejected_input_ids: [...p, 500 + ((i * 37) % 400), 600, 601, 2],
  };
});

async function lora() {
  manualSeed(0);
  return getPeftModel(
    await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`),
    new LoraConfig({ r: 4, loraAlpha: 8, targetModules: ["c_attn"], loraDropout: 0 }),
  );
}

function args(dir: string, extra: Partial<ConstructorParameters<typeof DPOConfig>[0]> = {}) {
  return new DPOConfig({
    outputDir: dir,
    maxSteps: 4,
    perDeviceTrainBatchSize: 2,
    learningRate: 5e-2,
    saveSteps: 2,
    loggingSteps: 2,
    logToConsole: false,
    disableTqdm: true,
    ...extra,
  });
}

test("DPOTrainer + LoRA: DPO metrics logged, adapter checkpoints, exact resume, margins grow", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-dpo-"));
  try {
    const run = async (resume: boolean) => {
      const model = await lora();
      const trainer = new DPOTrainer({ model, args: args(dir), trainDataset: pairs, padTokenId: 0 });
      await trainer.train({ resumeFromCheckpoint: resume ? join(dir, "checkpoint-2") : undefined });
      return {
        trainer,
        weights: model
          .parameters()
          .filter((p) => p.requiresGrad)
          .map((p) => p.dataSync()),
      };
    };
    const full = await run(false);
    const lines = (await readFile(join(dir, "trainer_log.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.loss !== undefined && l.train_loss === undefined);
    assert.equal(steps.length, 2);
    for (const k of [
      "rewards/chosen",
      "rewards/rejected",
      "rewards/accuracies",
      "rewards/margins",
      "logps/chosen",
      "logps/rejected",
      "logits/chosen",
      "logits/rejected",
    ]) {
      assert.equal(typeof steps[0][k], "number", `log line has ${k}`);
    }
    assert.ok(steps[1]["rewards/margins"] > 0, `margins grow: ${steps[1]["rewards/margins"]}`);
    const files = await readdir(join(dir, "checkpoint-2"));
    assert.ok(files.includes("adapter_model.safetensors") && !files.includes("model.safetensors"), files.join(", "));
    await rm(join(dir, "checkpoint-4"), { recursive: true });
    const resumed = await run(true);
    for (const [i, w] of resumed.weights.entries()) assert.deepEqual(w, full.weights[i]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("precomputed reference log-probs equal the adapter-disabled ones; a frozen copy works as reference", async () => {
  const model = await lora();
  const trainer = new DPOTrainer({
    model,
    args: args("/tmp/unused", { precomputeRefLogProbs: true }),
    trainDataset: pairs.slice(0, 4),
    padTokenId: 0,
  });
  trainer.precomputeReferenceLogps(3);
  const withRef = dpoCollator({ padTokenId: 0 })(trainer.trainFeatures);
  assert.ok(withRef.referenceChosenLogps, "the batch carries the precomputed log-probs");
  const fly = dpoStep(model, withRef as never, { reference: "adapter-disabled" });
  const { referenceChosenLogps: _c, referenceRejectedLogps: _r, ...plain } = withRef;
  const pre = dpoStep(model, withRef as never);
  const again = dpoStep(model, plain as never, { reference: "adapter-disabled" });
  assert.ok(Math.abs(pre.loss.item() - again.loss.item()) < 1e-6);
  assert.ok(Math.abs(fly.loss.item() - pre.loss.item()) < 1e-6);
  const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);
  const viaCopy = dpoStep(model, plain as never, { reference: { model: base } });
  assert.ok(Math.abs(viaCopy.loss.item() - again.loss.item()) < 1e-6, "frozen copy = adapter disabled");
});

test("a policy without adapters needs refModel, precomputed log-probs or referenceFree", async () => {
  const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);
  assert.throws(() => new DPOTrainer({ model: base, args: args("/tmp/unused"), trainDataset: pairs }), {
    code: ErrorCodes.CONFIG_INVALID,
  });
  assert.throws(
    () =>
      new DPOTrainer({
        model: base,
        args: args("/tmp/unused"),
        trainDataset: [{ chosen: "x" }] as never,
        refModel: base,
      }),
    {
      code: ErrorCodes.CONFIG_INVALID,
    },
  );
});

test("splitImplicitPrompt cuts hh-rlhf dialogues after the last shared 'Assistant:'", () => {
  const s = splitImplicitPrompt("\n\nHuman: hi\n\nAssistant: Sure, here", "\n\nHuman: hi\n\nAssistant: Sorry, no");
  assert.deepEqual(s, { prompt: "\n\nHuman: hi\n\nAssistant:", chosen: " Sure, here", rejected: " Sorry, no" });
});

test("tokenizePair: explicit-prompt strings and conversational records (Llama 3 chat template)", async () => {
  const tok = await AutoTokenizer.fromPretrained(join(FIXTURES, "data/tokenizers/llama3-bpe"), {
    fileNames: { "tokenizer.json": "tokenizer.json.gz" },
  });
  const conv = tokenizePair(
    {
      prompt: [{ role: "user", content: "Is the sky blue?" }],
      chosen: [{ role: "assistant", content: "Yes." }],
      rejected: [{ role: "assistant", content: "No." }],
    },
    tok,
  );
  const prompt = tok.decode(conv.prompt_input_ids);
  assert.match(
    prompt,
    /^<\|begin_of_text\|><\|start_header_id\|>user<\|end_header_id\|>\n\nIs the sky blue\?<\|eot_id\|><\|start_header_id\|>assistant<\|end_header_id\|>\n\n$/,
  );
  assert.deepEqual(conv.chosen_input_ids.slice(0, conv.prompt_input_ids.length), conv.prompt_input_ids);
  assert.match(tok.decode(conv.chosen_input_ids.slice(conv.prompt_input_ids.length)), /^Yes\.<\|eot_id\|>/);
  const plain = tokenizePair({ prompt: "Q: 2+2?", chosen: " 4", rejected: " 5" }, tok, {
    maxLength: 6,
    maxPromptLength: 3,
  });
  assert.equal(plain.prompt_input_ids.length, 3, "the prompt keeps its last 3 tokens");
  assert.equal(plain.chosen_input_ids.at(-1), tok.eosTokenId, "EOS after the answer");
  assert.ok(plain.chosen_input_ids.length <= 6);
});
