/**
 * PEFT's adapter folder: `adapter_config.json` (sorted keys, two-space indent, as Python's
 * `json.dumps(..., indent=2, sort_keys=True)`) and `adapter_model.safetensors` (metadata
 * `{"format": "pt"}`). Both are written to a temporary name and renamed.
 */
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { fromBuffer, SAFETENSORS_DTYPE, type Tensor, tensor } from "@hearth/tensor";
import {
  type RawTensorLike,
  type SafetensorsDtype,
  safeOpen,
  saveFile,
  toFloat32,
  writeFileAtomic,
} from "@hearth/tensor/safetensors";
import { type ResolveOptions, resolveModelDir } from "@hearth/transformers";
import { LoraConfig } from "../config/lora-config.ts";
import { PrefixTuningConfig } from "../config/prefix-tuning-config.ts";
import { PromptTuningConfig } from "../config/prompt-tuning-config.ts";
import { ErrorCodes, fail } from "../errors.ts";
import { PyFloat } from "./py-float.ts";

export const ADAPTER_CONFIG_NAME = "adapter_config.json";
export const ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors";

/** Options of `PeftModel.fromPretrained` / `loadAdapter`. */
export interface LoadAdapterOptions extends ResolveOptions {
  /** Keep the adapter trainable (default false: frozen, inference mode). */
  isTrainable?: boolean;
  /** Subfolder of the repository holding the adapter. */
  subfolder?: string;
}

/** Python's `json.dumps(obj, indent=2, sort_keys=True)`; wrap float fields in {@link PyFloat}. */
export function pythonJson(value: unknown, indent = ""): string {
  const inner = `${indent}  `;
  if (value === null || value === undefined) return "null";
  if (value instanceof PyFloat) return pyFloat(value.value);
  if (typeof value === "number")
    return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : pyFloat(value);
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (!value.length) return "[]";
    return `[\n${value.map((v) => inner + pythonJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const keys = Object.keys(value as object).sort();
  if (!keys.length) return "{}";
  const obj = value as Record<string, unknown>;
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${pythonJson(obj[k], inner)}`).join(",\n")}\n${indent}}`;
}

function pyFloat(x: number): string {
  if (Number.isInteger(x)) return `${x}.0`;
  const s = String(x);
  return s.includes("e") ? s.replace(/e([+-])(\d)$/, "e$10$2") : s;
}

/** Writes one adapter's config and tensors into `dir`. */
export async function saveAdapterFiles(
  dir: string,
  config: LoraConfig | PromptTuningConfig | PrefixTuningConfig,
  state: Record<string, Tensor>,
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    const tensors = new Map<string, RawTensorLike>();
    for (const [k, t] of Object.entries(state)) {
      const c = t.contiguous();
      tensors.set(k, { dtype: SAFETENSORS_DTYPE[c.dtype] as SafetensorsDtype, shape: [...c.shape], data: c.bytes() });
    }
    await saveFile(tensors, join(dir, ADAPTER_WEIGHTS_NAME), { format: "pt" });
    // PEFT writes inference_mode true on disk whatever the in-memory value
    const json = { ...config.toJSON(), inference_mode: true };
    await writeFileAtomic(join(dir, ADAPTER_CONFIG_NAME), (h) => h.writeFile(pythonJson(json)));
  } catch (error) {
    throw fail(
      ErrorCodes.SAVE_FAILED,
      `savePretrained: writing the adapter into ${dir} failed: ${(error as Error).message}`,
      error,
    );
  }
}

/** Reads the config and tensors of an adapter folder (or repository). */
export async function loadAdapterFiles(
  dirOrRepo: string,
  options: LoadAdapterOptions = {},
): Promise<{
  config: LoraConfig | PromptTuningConfig | PrefixTuningConfig;
  state: Record<string, Tensor>;
  where: string;
}> {
  let dir: string;
  try {
    dir = await resolveModelDir(dirOrRepo, options);
  } catch (error) {
    throw fail(ErrorCodes.ADAPTER_FILE, `PeftModel.fromPretrained: ${(error as Error).message}`, error);
  }
  if (options.subfolder) dir = join(dir, options.subfolder);
  const configPath = join(dir, ADAPTER_CONFIG_NAME);
  const weightsPath = join(dir, ADAPTER_WEIGHTS_NAME);
  for (const p of [configPath, weightsPath]) {
    if (
      !(await stat(p).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      throw fail(
        ErrorCodes.ADAPTER_FILE,
        `PeftModel.fromPretrained: ${p} does not exist (an adapter folder holds ${ADAPTER_CONFIG_NAME} and ${ADAPTER_WEIGHTS_NAME}; .bin adapters are not read)`,
      );
    }
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(configPath, "utf8"));
  } catch (error) {
    throw fail(
      ErrorCodes.ADAPTER_FILE,
      `PeftModel.fromPretrained: ${configPath} is not valid JSON: ${(error as Error).message}`,
      error,
    );
  }
  let config: LoraConfig | PromptTuningConfig | PrefixTuningConfig;
  if (json.peft_type === "LORA") config = LoraConfig.fromJSON(json);
  else if (json.peft_type === "PROMPT_TUNING") config = PromptTuningConfig.fromJSON(json);
  else if (json.peft_type === "PREFIX_TUNING") config = PrefixTuningConfig.fromJSON(json);
  else {
    throw fail(
      ErrorCodes.CONFIG_INVALID,
      `PeftModel.fromPretrained: ${configPath} has peft_type ${JSON.stringify(json.peft_type)}; Hearth reads LORA, PROMPT_TUNING and PREFIX_TUNING`,
    );
  }
  const state: Record<string, Tensor> = {};
  try {
    const file = await safeOpen(weightsPath);
    for (const k of file.keys()) {
      const raw = file.raw(k);
      state[k] =
        raw.dtype === "F32"
          ? fromBuffer(raw.data, "float32", [...raw.shape], { copyIfMisaligned: true })
          : tensor(toFloat32(raw.dtype, raw.data), { shape: [...raw.shape] });
    }
  } catch (error) {
    throw fail(
      ErrorCodes.ADAPTER_FILE,
      `PeftModel.fromPretrained: cannot read ${weightsPath}: ${(error as Error).message}`,
      error,
    );
  }
  return { config, state, where: weightsPath };
}
