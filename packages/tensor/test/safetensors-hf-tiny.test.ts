/**
 * Every safetensors file of fixtures/hf-tiny (written by the Python stack) loads, and what we read
 * equals what the goldens record: file hashes and parameter counts from models_manifest.json, the
 * per-tensor summaries (shape, first values, sum, abs max, sha256 of the float32 bytes) of every
 * golden file, the deterministic LoRA B initialisation, and the merged LoRA weights recomputed from
 * the base model and the adapter as W + scaling · B·A.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type SafetensorsFile, safeOpen, toFloat32 } from "../src/safetensors/index.ts";

const root = fileURLToPath(new URL("../../../fixtures/hf-tiny/", import.meta.url));
const json = (name: string) => JSON.parse(readFileSync(`${root}${name}`, "utf8"));
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

interface Summary {
  shape: number[];
  dtype: string;
  head: number[];
  sum: number;
  abs_max: number;
  sha256_f32le: string;
  values?: unknown;
}

/** Some goldens store small structures as their Python repr; read either form. */
function pyValue(value: unknown): unknown {
  if (typeof value !== "string" || !/^[[{]/.test(value)) return value;
  return JSON.parse(
    value.replaceAll("'", '"').replaceAll("None", "null").replaceAll("True", "true").replaceAll("False", "false"),
  );
}

function floats(file: SafetensorsFile, name: string): Float32Array {
  const raw = file.raw(name);
  return toFloat32(raw.dtype, raw.data);
}

describe("hf-tiny: model and adapter files", () => {
  const manifest = json("goldens/models_manifest.json");

  for (const [model, entry] of Object.entries<{
    dir: string;
    num_parameters: number;
    files: Record<string, { bytes: number; sha256: string }>;
  }>(manifest.models)) {
    test(`${model}: bytes and sha256 as recorded, parameter count ${entry.num_parameters}`, async () => {
      const path = `${root}${entry.dir}/model.safetensors`;
      const recorded = entry.files["model.safetensors"];
      const bytes = readFileSync(path);
      assert.equal(bytes.byteLength, recorded?.bytes);
      assert.equal(sha256(bytes), recorded?.sha256);
      const file = await safeOpen(path);
      assert.deepEqual(file.metadata, { format: "pt" });
      assert.equal(file.numElements, entry.num_parameters);
      for (const name of file.keys()) {
        const raw = file.raw(name);
        assert.equal(raw.dtype, "F32");
        // Zero-copy: a Float32Array over the mapping itself.
        const view = toFloat32(raw.dtype, raw.data);
        assert.equal(view.buffer, raw.data.buffer);
        assert.ok(view.every(Number.isFinite), name);
      }
    });
  }

  for (const adapter of ["gpt2-lora", "llama-lora"]) {
    test(`${adapter}: adapter bytes as recorded, trainable parameters, and lora_B = 0.05·sin(0.37·i + k) + 0.005`, async () => {
      const golden = json(`goldens/${adapter}.json`);
      const path = `${root}models/${adapter}/adapter_model.safetensors`;
      const files = pyValue(golden.adapter_files) as Record<string, { sha256: string }>;
      assert.equal(sha256(readFileSync(path)), files["adapter_model.safetensors"]?.sha256);
      const file = await safeOpen(path);
      assert.equal(file.numElements, Number(golden.trainable_parameters));
      const modules = pyValue(golden.lora_modules) as string[];
      assert.equal(modules.length * 2, file.keys().length);
      for (const [k, module] of modules.entries()) {
        const b = floats(file, `${module}.lora_B.weight`);
        for (let i = 0; i < b.length; i++) {
          assert.ok(
            Math.abs((b[i] as number) - (0.05 * Math.sin(0.37 * i + k) + 0.005)) < 1e-7,
            `${module} lora_B[${i}]`,
          );
        }
      }
    });

    test(`${adapter}: merged weights equal base + scaling · B·A computed from the loaded files`, async () => {
      const golden = json(`goldens/${adapter}.json`);
      const base = await safeOpen(`${root}models/${adapter.replace("-lora", "")}/model.safetensors`);
      const lora = await safeOpen(`${root}models/${adapter}/adapter_model.safetensors`);
      const merged = await safeOpen(`${root}goldens/${adapter}.safetensors`);
      const scaling = Number(golden.lora_scaling);
      const conv1d = adapter === "gpt2-lora"; // GPT-2 Conv1D stores W as [in, out]
      let checked = 0;
      for (const name of merged.keys().filter((n) => n.startsWith("merged."))) {
        const param = name.slice("merged.".length);
        const module = `base_model.model.${param.replace(/\.weight$/, "")}`;
        const w = floats(base, param);
        const a = floats(lora, `${module}.lora_A.weight`);
        const [r, inFeatures] = lora.info(`${module}.lora_A.weight`).shape as [number, number];
        const b = floats(lora, `${module}.lora_B.weight`);
        const outFeatures = lora.info(`${module}.lora_B.weight`).shape[0] as number;
        const expected = floats(merged, name);
        for (let o = 0; o < outFeatures; o++) {
          for (let i = 0; i < inFeatures; i++) {
            let delta = 0;
            for (let j = 0; j < r; j++) delta += (b[o * r + j] as number) * (a[j * inFeatures + i] as number);
            const at = conv1d ? i * outFeatures + o : o * inFeatures + i;
            assert.ok(
              Math.abs((w[at] as number) + scaling * delta - (expected[at] as number)) < 1e-5,
              `${name}[${at}]`,
            );
          }
        }
        checked++;
      }
      assert.equal(checked, adapter === "gpt2-lora" ? 4 : 8);
    });
  }
});

describe("hf-tiny: golden tensor files equal their JSON summaries", () => {
  for (const golden of [
    "gpt2",
    "llama",
    "bert",
    "bert-seqcls",
    "vit",
    "whisper",
    "gpt2-lora",
    "llama-lora",
    "gpt2-adamw",
    "trl-dpo",
    "preprocessing",
  ]) {
    test(golden, async () => {
      const summaries: Record<string, Summary> = json(`goldens/${golden}.json`).tensors;
      const file = await safeOpen(`${root}goldens/${golden}.safetensors`);
      assert.deepEqual(file.keys(), Object.keys(summaries).sort());
      for (const [name, summary] of Object.entries(summaries)) {
        const raw = file.raw(name);
        assert.deepEqual(raw.shape, summary.shape, name);
        assert.equal(summary.dtype, "float32");
        assert.equal(sha256(raw.data), summary.sha256_f32le, name);
        const values = floats(file, name);
        assert.deepEqual([...values.subarray(0, summary.head.length)], summary.head, name);
        let sum = 0;
        let absMax = 0;
        for (const v of values) {
          sum += v;
          absMax = Math.max(absMax, Math.abs(v));
        }
        assert.ok(
          Math.abs(sum - summary.sum) <= 1e-6 * Math.max(1, Math.abs(summary.sum)) + 1e-9 * values.length,
          `${name}: sum ${sum} vs ${summary.sum}`,
        );
        assert.equal(absMax, summary.abs_max, name);
        if (summary.values !== undefined) assert.deepEqual([...values], [summary.values].flat(10), name);
      }
    });
  }
});
