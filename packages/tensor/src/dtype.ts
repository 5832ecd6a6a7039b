/**
 * Data types and their storage.
 *
 * Each dtype is stored in one typed array kind; the bytes are exactly the little-endian bytes of
 * safetensors/PyTorch, so a file's bytes can back a tensor without conversion:
 *
 * | dtype      | storage array    | element bytes | values seen by kernels            |
 * | ---------- | ---------------- | ------------- | --------------------------------- |
 * | float32    | Float32Array     | 4             | number                            |
 * | float16    | Uint16Array      | 2             | IEEE binary16 bits, decoded to f32 |
 * | bfloat16   | Uint16Array      | 2             | bfloat16 bits (upper half of f32) |
 * | int32      | Int32Array       | 4             | number                            |
 * | int64      | BigInt64Array    | 8             | bigint (bytes round-trip exactly) |
 * | uint8      | Uint8Array       | 1             | number                            |
 * | int8       | Int8Array        | 1             | number                            |
 * | bool       | Uint8Array       | 1             | 0 or 1                            |
 *
 * Conversions to float16/bfloat16 round to nearest, ties to even, from the exact input value
 * (a JS number), so float32 → float16/bfloat16 is a single correct rounding.
 */
import { HearthTensorError } from "./errors.ts";

/** The dtypes Hearth supports. */
export type DType = "float32" | "float16" | "bfloat16" | "int32" | "int64" | "uint8" | "int8" | "bool";

/** All dtypes, in promotion order within their kind. */
export const DTYPES: readonly DType[] = ["bool", "uint8", "int8", "int32", "int64", "float16", "bfloat16", "float32"];

/** The typed array that backs each dtype. */
export type TypedArray = Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/** Bytes per element. */
export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  int8: 1,
  bool: 1,
};

/** safetensors dtype names (`F32`, `BF16`, …) for each dtype. */
export const SAFETENSORS_DTYPE: Readonly<Record<DType, string>> = {
  float32: "F32",
  float16: "F16",
  bfloat16: "BF16",
  int32: "I32",
  int64: "I64",
  uint8: "U8",
  int8: "I8",
  bool: "BOOL",
};

/** Whether `x` is one of the supported dtype names. */
export function isDType(x: unknown): x is DType {
  return typeof x === "string" && (DTYPES as readonly string[]).includes(x);
}

/** Throws a coded error unless `x` is a dtype. */
export function checkDType(fn: string, arg: string, x: unknown): DType {
  if (!isDType(x)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `${fn}: argument '${arg}' must be one of ${DTYPES.join(", ")}, got ${JSON.stringify(x)}`,
    );
  }
  return x;
}

export function isFloating(d: DType): boolean {
  return d === "float32" || d === "float16" || d === "bfloat16";
}

export function isIntegral(d: DType): boolean {
  return !isFloating(d);
}

/** A typed array of `length` elements for `dtype` over `buffer` at `byteOffset` (no copy). */
export function typedArrayFor(dtype: DType, buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(buffer, byteOffset, length);
    case "float16":
    case "bfloat16":
      return new Uint16Array(buffer, byteOffset, length);
    case "int32":
      return new Int32Array(buffer, byteOffset, length);
    case "int64":
      return new BigInt64Array(buffer, byteOffset, length);
    case "uint8":
    case "bool":
      return new Uint8Array(buffer, byteOffset, length);
    case "int8":
      return new Int8Array(buffer, byteOffset, length);
  }
}

/**
 * Promotion for binary ops, after PyTorch: bool < integers < floats; two different 16-bit float
 * types promote to float32; uint8 with int8 promotes to int32 (we have no int16).
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  const fa = isFloating(a);
  const fb = isFloating(b);
  if (fa && fb) return "float32";
  if (fa) return a;
  if (fb) return b;
  if (a === "bool") return b;
  if (b === "bool") return a;
  if ((a === "uint8" && b === "int8") || (a === "int8" && b === "uint8")) return "int32";
  return DTYPES.indexOf(a) > DTYPES.indexOf(b) ? a : b;
}

// ---- 16-bit float conversion -------------------------------------------------------------

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Rounds `x` to a binary float with `manBits` mantissa bits and exponent bias `bias`, returning
 * its bit pattern (sign | exponent | mantissa). All scaling is by powers of two, so the value is
 * rounded exactly once, to nearest with ties to even.
 */
function toHalfBits(x: number, manBits: number, expBits: number): number {
  const bias = (1 << (expBits - 1)) - 1;
  const signBit = 1 << (manBits + expBits);
  const expMax = (1 << expBits) - 1;
  const infBits = expMax << manBits;
  if (Number.isNaN(x)) return infBits | (1 << (manBits - 1));
  const sign = x < 0 || Object.is(x, -0) ? signBit : 0;
  const a = Math.abs(x);
  if (a === Number.POSITIVE_INFINITY) return sign | infBits;
  const minNormalExp = 1 - bias;
  if (a < 2 ** minNormalExp) {
    // Subnormal: quantum 2^(minNormalExp - manBits). A result of 2^manBits is the smallest normal.
    return sign | roundHalfEven(a / 2 ** (minNormalExp - manBits));
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  else if (2 ** (e + 1) <= a) e += 1;
  let m = roundHalfEven((a / 2 ** e - 1) * 2 ** manBits);
  if (m === 2 ** manBits) {
    m = 0;
    e += 1;
  }
  if (e + bias >= expMax) return sign | infBits;
  return sign | ((e + bias) << manBits) | m;
}

/** IEEE binary16 bits of `x`, round to nearest even (overflow gives ±Infinity). */
export function floatToF16Bits(x: number): number {
  return toHalfBits(x, 10, 5);
}

/** bfloat16 bits of `x`, round to nearest even. */
export function floatToBf16Bits(x: number): number {
  return toHalfBits(x, 7, 8);
}

const F16_TABLE = (() => {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) table[h] = s * m * 2 ** -24;
    else if (e === 31) table[h] = m === 0 ? s * Number.POSITIVE_INFINITY : Number.NaN;
    else table[h] = s * (1 + m / 1024) * 2 ** (e - 15);
  }
  return table;
})();

/** The value of IEEE binary16 bits. */
export function f16BitsToFloat(bits: number): number {
  return F16_TABLE[bits & 0xffff] as number;
}

const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

/** The value of bfloat16 bits. */
export function bf16BitsToFloat(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0] as number;
}
