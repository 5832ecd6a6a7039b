/**
 * safetensors ↔ {@link Tensor}: tensors over the file mapping (zero-copy where the engine has the
 * file's dtype), dtype conversion on load, and tensors as writer input.
 */
// Registers the js backend, which the dtype casts below run on, for users of the subpath export.
import "../backends/index.ts";
import { type DType, isFloating, SAFETENSORS_DTYPE } from "../dtype.ts";
import { apply1 } from "../ops/apply.ts";
import { fromBuffer } from "../ops/creation/tensor.ts";
import type { Tensor } from "../tensor.ts";
import { FLOAT_DTYPES, type SafetensorsDtype, toFloat32 } from "./dtypes.ts";
import { SafetensorsErrorCode as Code, fail } from "./errors.ts";
import type { RawTensor, TensorSource } from "./open.ts";
import type { RawTensorLike } from "./serialize.ts";

/** The engine dtype that holds each file dtype's bytes unchanged. */
const SAME_BYTES: Partial<Record<SafetensorsDtype, DType>> = {
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  I32: "int32",
  I64: "int64",
  U8: "uint8",
  I8: "int8",
  BOOL: "bool",
};

/**
 * The engine dtype a file dtype loads as when none is asked for: itself where the engine has it,
 * otherwise the narrowest engine dtype holding every value (float64 and the 8-bit floats →
 * float32, 16-bit integers → int32, unsigned 32/64-bit → int64).
 */
export function defaultDtype(dtype: SafetensorsDtype): DType {
  const same = SAME_BYTES[dtype];
  if (same) return same;
  if (FLOAT_DTYPES.has(dtype)) return "float32";
  if (dtype === "I16" || dtype === "U16") return "int32";
  if (dtype === "U32" || dtype === "U64") return "int64";
  return fail(Code.BAD_CONVERSION, `safetensors: dtype ${dtype} has no Hearth tensor dtype; read its bytes with raw()`);
}

/** Options for turning stored tensors into {@link Tensor}s. */
export interface ToTensorOptions {
  /**
   * The dtype to produce (e.g. `"float32"` for a bfloat16 checkpoint). Floats convert to floats
   * (rounded to nearest even when narrowing) and integers to any dtype; floats never silently
   * become integers. Defaults to {@link defaultDtype}.
   */
  dtype?: DType;
}

/**
 * A {@link Tensor} for a stored tensor. When the requested dtype has the file's bytes
 * (`F32` → float32, `BF16` → bfloat16, …) the tensor views the mapping: no copy, pages read on
 * first touch. Otherwise the values are converted into new memory.
 *
 * @example
 * const f = await safeOpen("model.safetensors");
 * const w = toTensor(f.raw("lm_head.weight"));                         // zero-copy view
 * const w32 = toTensor(f.raw("lm_head.weight"), { dtype: "float32" }); // bf16 file → float32
 */
export function toTensor(raw: RawTensor, options: ToTensorOptions = {}, name = "tensor"): Tensor {
  const target = options.dtype ?? defaultDtype(raw.dtype);
  const fileFloat = FLOAT_DTYPES.has(raw.dtype);
  if (fileFloat && !isFloating(target)) {
    fail(Code.BAD_CONVERSION, `safetensors: '${name}' is ${raw.dtype}; refusing to convert floats to ${target}`);
  }
  const shape = [...raw.shape];
  // Widening any float file to float32 has a direct path (table lookups and shifts).
  if (fileFloat && target === "float32") return fromBuffer(toFloat32(raw.dtype, raw.data), "float32", shape);
  const same = SAME_BYTES[raw.dtype];
  let base: Tensor;
  if (same) {
    base = fromBuffer(raw.data, same, shape, { copyIfMisaligned: true });
  } else if (fileFloat) {
    base = fromBuffer(toFloat32(raw.dtype, raw.data), "float32", shape);
  } else {
    base = widenIntegers(raw, shape, name);
  }
  if (base.dtype === target) return base;
  const cast = apply1("cast", [base], { dtype: target });
  base.dispose();
  return cast;
}

function widenIntegers(raw: RawTensor, shape: number[], name: string): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const view = new DataView(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  switch (raw.dtype) {
    case "I16":
    case "U16": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++)
        out[i] = raw.dtype === "I16" ? view.getInt16(2 * i, true) : view.getUint16(2 * i, true);
      return fromBuffer(out, "int32", shape);
    }
    case "U32": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(view.getUint32(4 * i, true));
      return fromBuffer(out, "int64", shape);
    }
    case "U64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigUint64(8 * i, true);
        if (v > 0x7fff_ffff_ffff_ffffn) {
          fail(Code.BAD_CONVERSION, `safetensors: '${name}' (U64) holds ${v} at element ${i}, beyond int64`);
        }
        out[i] = v;
      }
      return fromBuffer(out, "int64", shape);
    }
    default:
      return fail(
        Code.BAD_CONVERSION,
        `safetensors: '${name}' has dtype ${raw.dtype}, which Hearth tensors cannot hold`,
      );
  }
}

/** The writer's view of a tensor: its safetensors dtype, shape and bytes (zero-copy if contiguous). */
export function fromTensor(t: Tensor): RawTensorLike {
  return { dtype: SAFETENSORS_DTYPE[t.dtype] as SafetensorsDtype, shape: [...t.shape], data: t.bytes() };
}

/** Every tensor of `source` as a {@link Tensor} keyed by name (zero-copy where dtypes allow). */
export function loadTensors(source: TensorSource, options: ToTensorOptions = {}): Map<string, Tensor> {
  return new Map(source.keys().map((name) => [name, toTensor(source.raw(name), options, name)]));
}
