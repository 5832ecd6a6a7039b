/**
 * Text-encoder embedding throughput: a BERT-base-shaped model (12 layers, hidden 768, 12
 * heads, intermediate 3072, vocab 30522; random weights written to a temp folder as
 * model.safetensors so both engines read the same file) embeds a [batch, length] batch of
 * random ids (mean pooling over the mask); reported as sentences/s.
 *
 * Peer, measured in the same run on the same weights: PyTorch CPU through
 * bench/peers/bert_torch.py, a plain-torch BERT (Debian `python3-torch`; `OMP_WAIT_POLICY=PASSIVE`,
 * threads from --threads). Skipped with a message when torch is absent. Before timing, both
 * embed one fixed input and the bench prints the largest difference.
 *
 * Run: npm run bench -- encoders [--batch 32] [--length 128] [--layers 12] [--runs 3] [--threads 1]
 * The js reference backend is slow at this size; `--layers 2 --batch 8 --length 64` gives a quick look.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getBackend, manualSeed, noGrad, ones, randint, scope, tensor } from "../packages/tensor/src/index.ts";
import { BertConfig, BertModel } from "../packages/transformers/src/index.ts";
import { torchPython } from "./peers/python.ts";

const { values } = parseArgs({
  options: {
    batch: { type: "string", default: "32" },
    length: { type: "string", default: "128" },
    layers: { type: "string", default: "12" },
    runs: { type: "string", default: "3" },
    threads: { type: "string", default: "1" },
  },
});
const BATCH = Number(values.batch);
const LENGTH = Number(values.length);
const RUNS = Number(values.runs);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Mean-pooled embeddings `[B, E]` (the feature-extraction pipeline's "mean" pooling, on tensors). */
function embed(model: BertModel, ids: ReturnType<typeof tensor>, mask: ReturnType<typeof tensor>): Float32Array {
  return scope(() =>
    noGrad(() => {
      const h = model.forward({ inputIds: ids, attentionMask: mask }).lastHiddenState;
      const m = mask.to("float32").unsqueeze(-1);
      return h.mul(m).sum(1).div(m.sum(1)).dataSync() as Float32Array;
    }),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-bench-encoders-"));
  try {
    manualSeed(0);
    const config = new BertConfig({ num_hidden_layers: Number(values.layers) });
    console.log(`building BERT-base-shaped model (${config.num_hidden_layers} layers) with random weights…`);
    await new BertModel(config).savePretrained(dir);
    const model = await BertModel.fromPretrained(dir);
    console.log(`backend '${getBackend().name}', batch ${BATCH}, length ${LENGTH}`);
    console.log("note: the machine is shared; these numbers are noisy.\n");

    const checkIds = tensor([Array.from({ length: 16 }, (_, i) => (7 * i + 3) % config.vocab_size)], {
      dtype: "int64",
    });
    const ours = embed(model, checkIds, ones([1, 16], { dtype: "int64" })).slice(0, 8);
    const ids = randint(0, config.vocab_size, [BATCH, LENGTH], { dtype: "int64" });
    const mask = ones([BATCH, LENGTH], { dtype: "int64" });
    embed(model, ids, mask); // warm-up
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      embed(model, ids, mask);
      times.push(performance.now() - t0);
    }
    const hearth = BATCH / (median(times) / 1000);
    const torch = runTorch(dir);
    if (torch) {
      const diff = Math.max(...ours.map((x, i) => Math.abs(x - (torch.check[i] as number))));
      console.log(`check vs pytorch: largest difference ${diff.toExponential(2)} over 8 pooled values\n`);
    }
    console.log("| measure | hearth | pytorch | ratio (>1 = hearth better) |");
    console.log("| --- | --- | --- | --- |");
    const peer = torch ? torch.sentences_s.toFixed(1) : "skipped";
    const ratio = torch ? (hearth / torch.sentences_s).toFixed(3) : "–";
    console.log(`| embeddings b${BATCH}×${LENGTH} (sentences/s) | ${hearth.toFixed(2)} | ${peer} | ${ratio} |`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the PyTorch peer on the same checkpoint; null (with a message) when torch is absent. */
function runTorch(dir: string): { sentences_s: number; check: number[] } | null {
  const python = torchPython();
  if (!python) {
    console.log("pytorch peer: skipped (no python3 can import torch and numpy; `apt-get install python3-torch`)\n");
    return null;
  }
  const script = join(import.meta.dirname, "peers", "bert_torch.py");
  const run = spawnSync(python, [script, dir, String(BATCH), String(LENGTH), String(RUNS), values.threads as string], {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    maxBuffer: 1 << 24,
  });
  if (run.status !== 0) {
    console.log(`pytorch peer: failed\n${run.stderr}`);
    return null;
  }
  return JSON.parse(run.stdout.trim().split("\n").at(-1) as string);
}

await main();
