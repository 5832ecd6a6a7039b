/**
 * Moving tensors between a module and safetensors checkpoints with Hugging Face parameter
 * names: reading (single file or sharded, zero-copy where the dtype allows), setting
 * parameters in place of the freshly initialised ones, and writing what Python loads.
 */
import { type DType, fromBuffer, type Module, SAFETENSORS_DTYPE, type Tensor, tensor, to } from "@hearth/tensor";
import {
  openCheckpoint,
  type SafetensorsDtype,
  saveSharded,
  type TensorData,
  type TensorSource,
  toFloat32,
} from "@hearth/tensor/safetensors";
import { ErrorCodes, fail } from "../errors.ts";

const FROM_SAFETENSORS: Partial<Record<SafetensorsDtype, DType>> = {
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  I64: "int64",
  I32: "int32",
  U8: "uint8",
  I8: "int8",
  BOOL: "bool",
};

/** Opens the weights of a model folder (`model.safetensors` or its sharded index). */
export async function openWeights(folder: string): Promise<TensorSource> {
  try {
    return await openCheckpoint(folder);
  } catch (error) {
    throw fail(
      ErrorCodes.MODEL_NOT_FOUND,
      `fromPretrained: no weights in ${folder}: ${(error as Error).message} (only safetensors checkpoints are read)`,
      error,
    );
  }
}

/** Tensor `name` of `source` as a Tensor over the file's memory (converted to float32 for dtypes the engine lacks). */
export function readTensor(source: TensorSource, name: string): Tensor {
  const raw = source.raw(name);
  const dtype = FROM_SAFETENSORS[raw.dtype];
  if (dtype) return fromBuffer(raw.data, dtype, [...raw.shape], { copyIfMisaligned: true });
  return tensor(toFloat32(raw.dtype, raw.data), { shape: [...raw.shape] });
}

/** The module owning dotted parameter `name` and the last name part. */
function owner(root: Module, name: string): [Module, string] {
  const parts = name.split(".");
  const leaf = parts.pop() as string;
  let m: Module = root;
  for (const p of parts) {
    const child = [...m.namedChildren()].find(([n]) => n === p)?.[1];
    if (!child)
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `setParameter: ${root.constructor.name} has no submodule '${p}' (in '${name}')`,
      );
    m = child;
  }
  return [m, leaf];
}

/**
 * Replaces parameter `name` (dotted) with `value`: the registration and the module's field of
 * the same name, so layers that read `this.weight` see it.
 */
export function setParameter(root: Module, name: string, value: Tensor): void {
  const [m, leaf] = owner(root, name);
  const old = m.namedParameters("", false).find(([n]) => n === leaf)?.[1];
  m.registerParameter(leaf, value);
  if (leaf in m) (m as unknown as Record<string, unknown>)[leaf] = value;
  if (old && old !== value) old.dispose();
}

/** Converts every floating parameter to `dtype` (in place of the old tensors). */
export function castParameters(root: Module, dtype: DType): void {
  for (const [name, t] of root.namedParameters()) {
    if (t.dtype !== dtype && t.dtype.includes("float")) setParameter(root, name, to(t.detach(), dtype));
  }
}

/**
 * The tensors to write for `state` (dotted name → tensor), skipping `skip` (tied copies).
 * Each is laid out row-major with the dtype's safetensors name.
 */
export function toTensorMap(state: Record<string, Tensor>, skip: ReadonlySet<string>): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  for (const [name, t] of Object.entries(state)) {
    if (skip.has(name)) continue;
    out.set(name, { dtype: SAFETENSORS_DTYPE[t.dtype] as SafetensorsDtype, shape: [...t.shape], data: t.bytes() });
  }
  return out;
}

/** Writes `tensors` as `model.safetensors` (or shards with an index) into `folder`. */
export async function writeWeights(
  tensors: Map<string, TensorData>,
  folder: string,
  maxShardSize?: number | string,
): Promise<void> {
  try {
    await saveSharded(tensors, folder, { maxShardSize: maxShardSize ?? "5GB", metadata: { format: "pt" } });
  } catch (error) {
    throw fail(
      ErrorCodes.MODEL_SAVE_FAILED,
      `savePretrained: writing weights into ${folder} failed: ${(error as Error).message}`,
      error,
    );
  }
}
