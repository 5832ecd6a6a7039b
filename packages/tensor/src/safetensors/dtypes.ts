/**
 * The dtypes of the safetensors format, their element sizes, the order the reference writer sorts
 * them in, and decoders from the 8- and 16-bit float formats to float32.
 *
 * Half and 8-bit floats have no JavaScript typed array: they are read as raw bits (`Uint16Array`,
 * `Uint8Array`) and widened with {@link toFloat32}. Widening is exact: every F16, BF16, F8_E4M3
 * and F8_E5M2 value is a float32 value.
 */
import { fail, SafetensorsErrorCode } from "./errors.ts";

/**
 * A dtype name as it appears in a safetensors header. F4/F6 (sub-byte, MX formats) are not
 * supported and are reported as unknown.
 */
export type SafetensorsDtype =
  | "BOOL"
  | "U8"
  | "I8"
  | "F8_E5M2"
  | "F8_E4M3"
  | "F8_E8M0"
  | "I16"
  | "U16"
  | "F16"
  | "BF16"
  | "I32"
  | "U32"
  | "F32"
  | "C64"
  | "F64"
  | "I64"
  | "U64";

interface DtypeInfo {
  /** Bytes per element. */
  size: number;
  /**
   * Position in the reference implementation's `Dtype` enum, which is declared in increasing
   * alignment order; the writer sorts tensors by this, descending, then by name. The gaps are the
   * sub-byte types F4, F6_E2M3 and F6_E3M2 this reader does not support.
   */
  rank: number;
}

/** Size and sort rank of every supported dtype. */
export const DTYPES: Readonly<Record<SafetensorsDtype, DtypeInfo>> = {
  BOOL: { size: 1, rank: 0 },
  U8: { size: 1, rank: 4 },
  I8: { size: 1, rank: 5 },
  F8_E5M2: { size: 1, rank: 6 },
  F8_E4M3: { size: 1, rank: 7 },
  F8_E8M0: { size: 1, rank: 8 },
  I16: { size: 2, rank: 9 },
  U16: { size: 2, rank: 10 },
  F16: { size: 2, rank: 11 },
  BF16: { size: 2, rank: 12 },
  I32: { size: 4, rank: 13 },
  U32: { size: 4, rank: 14 },
  F32: { size: 4, rank: 15 },
  C64: { size: 8, rank: 16 },
  F64: { size: 8, rank: 17 },
  I64: { size: 8, rank: 18 },
  U64: { size: 8, rank: 19 },
};

/** Whether `name` is a dtype this module reads and writes. */
export function isSafetensorsDtype(name: unknown): name is SafetensorsDtype {
  return typeof name === "string" && Object.hasOwn(DTYPES, name);
}

/** The typed array that views a dtype's elements without conversion. */
export type RawTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * Views `bytes` as the typed array of `dtype` (F16/BF16 as `Uint16Array` bits, 8-bit floats and
 * BOOL as `Uint8Array`, C64 as interleaved `Float32Array`). Zero-copy when `bytes` is aligned to
 * the element size; otherwise the bytes are copied into a fresh, aligned buffer.
 */
export function viewAs(dtype: SafetensorsDtype, bytes: Uint8Array): RawTypedArray {
  const size = DTYPES[dtype].size;
  let src = bytes;
  if (src.byteOffset % size !== 0) src = bytes.slice();
  const { buffer, byteOffset } = src;
  const n = src.byteLength / size;
  switch (dtype) {
    case "BOOL":
    case "U8":
    case "F8_E5M2":
    case "F8_E4M3":
    case "F8_E8M0":
      return src;
    case "I8":
      return new Int8Array(buffer, byteOffset, n);
    case "I16":
      return new Int16Array(buffer, byteOffset, n);
    case "U16":
    case "F16":
    case "BF16":
      return new Uint16Array(buffer, byteOffset, n);
    case "I32":
      return new Int32Array(buffer, byteOffset, n);
    case "U32":
      return new Uint32Array(buffer, byteOffset, n);
    case "F32":
      return new Float32Array(buffer, byteOffset, n);
    case "C64":
      return new Float32Array(buffer, byteOffset, n * 2);
    case "F64":
      return new Float64Array(buffer, byteOffset, n);
    case "I64":
      return new BigInt64Array(buffer, byteOffset, n);
    case "U64":
      return new BigUint64Array(buffer, byteOffset, n);
  }
}

let f16Table: Float32Array | null = null;

/** float32 value of each of the 65536 half-precision bit patterns (IEEE 754 binary16). */
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 31) table[h] = mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  f16Table = table;
  return table;
}

/** Decodes one 8-bit float given its exponent width, bias and special-value rule. */
function fp8Table(kind: "e4m3" | "e5m2" | "e8m0"): Float32Array {
  const table = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    if (kind === "e8m0") {
      // OCP MX scale: unsigned exponent only, 0xff is NaN.
      table[b] = b === 0xff ? Number.NaN : 2 ** (b - 127);
      continue;
    }
    const sign = b & 0x80 ? -1 : 1;
    if (kind === "e4m3") {
      // E4M3 "fn" (finite, as torch.float8_e4m3fn): no infinities; S.1111.111 is NaN.
      const exp = (b >> 3) & 0xf;
      const mant = b & 0x7;
      if (exp === 0xf && mant === 0x7) table[b] = Number.NaN;
      else if (exp === 0) table[b] = sign * (mant / 8) * 2 ** -6;
      else table[b] = sign * (1 + mant / 8) * 2 ** (exp - 7);
    } else {
      // E5M2: IEEE-like, bias 15, with infinities and NaNs.
      const exp = (b >> 2) & 0x1f;
      const mant = b & 0x3;
      if (exp === 0x1f) table[b] = mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
      else if (exp === 0) table[b] = sign * (mant / 4) * 2 ** -14;
      else table[b] = sign * (1 + mant / 4) * 2 ** (exp - 15);
    }
  }
  return table;
}

const fp8Tables: Partial<Record<"e4m3" | "e5m2" | "e8m0", Float32Array>> = {};
function fp8(kind: "e4m3" | "e5m2" | "e8m0"): Float32Array {
  fp8Tables[kind] ??= fp8Table(kind);
  return fp8Tables[kind];
}

/** float32 value of a half-precision bit pattern. */
export function halfToFloat(bits: number): number {
  return halfTable()[bits & 0xffff] as number;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 value of a bfloat16 bit pattern. */
export function bfloat16ToFloat(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0] as number;
}

/** The floating dtypes {@link toFloat32} widens (and F32 itself). */
export const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set<SafetensorsDtype>([
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F16",
  "BF16",
  "F32",
  "F64",
]);

/**
 * The elements of `bytes` (holding `dtype` values) as float32. F32 aligned input is returned as a
 * view (no copy); every other dtype is converted into a new array. F64 is rounded to the nearest
 * float32; integer dtypes are converted by value (exact up to 2^24). C64 cannot be converted.
 */
export function toFloat32(dtype: SafetensorsDtype, bytes: Uint8Array): Float32Array {
  const src = viewAs(dtype, bytes);
  if (dtype === "F32") return src as Float32Array;
  const n = bytes.byteLength / DTYPES[dtype].size;
  const out = new Float32Array(n);
  switch (dtype) {
    case "F16": {
      const table = halfTable();
      const bits = src as Uint16Array;
      for (let i = 0; i < n; i++) out[i] = table[bits[i] as number] as number;
      return out;
    }
    case "BF16": {
      const bits = src as Uint16Array;
      const wide = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) wide[i] = (bits[i] as number) << 16;
      return out;
    }
    case "F8_E4M3":
    case "F8_E5M2":
    case "F8_E8M0": {
      const table = fp8(dtype === "F8_E4M3" ? "e4m3" : dtype === "F8_E5M2" ? "e5m2" : "e8m0");
      for (let i = 0; i < n; i++) out[i] = table[bytes[i] as number] as number;
      return out;
    }
    case "I64":
    case "U64": {
      const big = src as BigInt64Array | BigUint64Array;
      for (let i = 0; i < n; i++) out[i] = Number(big[i]);
      return out;
    }
    case "C64":
      return fail(
        SafetensorsErrorCode.BAD_CONVERSION,
        "toFloat32: dtype C64 (complex) has no float32 equivalent; read it with viewAs('C64', bytes)",
      );
    default:
      out.set(src as Exclude<RawTypedArray, BigInt64Array | BigUint64Array>);
      return out;
  }
}
