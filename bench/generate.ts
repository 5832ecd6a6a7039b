/**
 * Generation speed on a GPT-2-small-shaped checkpoint (124M parameters, random weights written
 * to a temp folder as model.safetensors, so every engine reads the same file):
 *
 *   prefill   latency of one forward pass over a 128-token prompt (last position's logits)
 *   decode    tokens/s of greedy decoding with the KV cache, batch 1 and batch 8
 *             (= batch · new tokens / (time of prompt + N tokens − time of prompt + 1 token))
 *
 * Peers, measured in the same run on the same weights:
 *   - PyTorch CPU: bench/peers/gpt2_torch.py, a plain-torch GPT-2 (Debian `python3-torch`;
 *     `OMP_WAIT_POLICY=PASSIVE`, threads from --threads). Skipped with a message when torch is absent.
 *   - onnxruntime-node (what transformers.js runs on): needs an ONNX export of the torch model
 *     and `cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node`; skipped with a
 *     message when either is absent.
 *
 * Run: npm run bench -- generate [--prompt 128] [--new 16] [--runs 3] [--layers 12] [--threads 1]
 * The js reference backend is slow on 124M parameters; `--layers 2` gives a quick look.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getBackend, manualSeed, noGrad, randint } from "../packages/tensor/src/index.ts";
import { GPT2Config, GPT2LMHeadModel } from "../packages/transformers/src/index.ts";

const { values } = parseArgs({
  options: {
    prompt: { type: "string", default: "128" },
    new: { type: "string", default: "16" },
    runs: { type: "string", default: "3" },
    layers: { type: "string", default: "12" },
    threads: { type: "string", default: "1" },
  },
});
const PROMPT = Number(values.prompt);
const NEW = Number(values.new);
const RUNS = Number(values.runs);
const LAYERS = Number(values.layers);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-bench-generate-"));
  try {
    manualSeed(0);
    const config = new GPT2Config({ n_layer: LAYERS });
    console.log(`building GPT-2-small-shaped model (${LAYERS} layers) with random weights…`);
    await new GPT2LMHeadModel(config).savePretrained(dir);
    const model = await GPT2LMHeadModel.fromPretrained(dir);
    const params = model.parameters().reduce((n, p) => n + p.size, 0);
    console.log(`checkpoint: ${(params / 1e6).toFixed(1)}M parameters, float32, backend '${getBackend().name}'`);
    console.log("note: the machine is shared; these numbers are noisy.\n");

    const ids = (b: number, n: number) => randint(0, config.vocab_size, [b, n], { dtype: "int64" });
    const prompt = ids(1, PROMPT);
    const prefill = [];
    for (let r = 0; r < RUNS; r++) {
      prefill.push(
        await time(() => noGrad(() => model.forward({ inputIds: prompt, logitsToKeep: 1 }).logits.dataSync())),
      );
    }
    const ours: Record<string, number> = { prefill_ms: median(prefill) };
    for (const B of [1, 8]) {
      const p = ids(B, 16);
      const one = [];
      const many = [];
      for (let r = 0; r < RUNS; r++) {
        one.push(await time(() => model.generate(p, { maxNewTokens: 1, minNewTokens: 1 })));
        many.push(await time(() => model.generate(p, { maxNewTokens: NEW + 1, minNewTokens: NEW + 1 })));
      }
      ours[`decode_b${B}_tok_s`] = (B * NEW) / ((median(many) - median(one)) / 1000);
    }

    const torch = runTorch(dir);
    const rows: [string, number, number | null, boolean][] = [
      [`prefill ${PROMPT} tokens (ms)`, ours.prefill_ms as number, torch?.prefill_ms ?? null, false],
      ["decode batch 1 (tokens/s)", ours.decode_b1_tok_s as number, torch?.decode_b1_tok_s ?? null, true],
      ["decode batch 8 (tokens/s)", ours.decode_b8_tok_s as number, torch?.decode_b8_tok_s ?? null, true],
    ];
    console.log("| measure | hearth | pytorch | ratio (>1 = hearth better) |");
    console.log("| --- | --- | --- | --- |");
    for (const [name, a, b, higherBetter] of rows) {
      const ratio = b === null ? "–" : (higherBetter ? a / b : b / a).toFixed(2);
      console.log(`| ${name} | ${a.toFixed(1)} | ${b === null ? "skipped" : b.toFixed(1)} | ${ratio} |`);
    }
    console.log(
      "\nonnxruntime-node: skipped (needs an ONNX export of the torch model and `ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node` inside bench/; not set up yet)",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the PyTorch peer on the same checkpoint; null (with a message) when torch is absent. */
function runTorch(dir: string): Record<string, number> | null {
  const probe = spawnSync("python3", ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) {
    console.log("pytorch peer: skipped (python3 cannot import torch; install Debian's python3-torch)\n");
    return null;
  }
  const script = join(import.meta.dirname, "peers", "gpt2_torch.py");
  const args = [script, dir, String(PROMPT), String(NEW), String(RUNS), values.threads as string];
  const run = spawnSync("python3", args, {
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
