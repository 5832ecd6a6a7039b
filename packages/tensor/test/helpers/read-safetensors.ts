/**
 * A minimal safetensors reader for tests (the full reader lives in the safetensors module):
 * maps the file and wraps each tensor's bytes without copying.
 */
import { type DType, fromBuffer, type Tensor } from "../../src/index.ts";
import { mapFile } from "../../src/native/index.ts";

const DTYPES: Record<string, DType> = {
  F32: "float32",
  F16: "float16",
  BF16: "bfloat16",
  I32: "int32",
  I64: "int64",
  U8: "uint8",
  I8: "int8",
  BOOL: "bool",
};

/** Every tensor of the file by name. */
export function readSafetensors(path: string): Record<string, Tensor> {
  const buf = mapFile(path);
  const headerLen = Number(new DataView(buf).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, headerLen))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out: Record<string, Tensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const dtype = DTYPES[info.dtype];
    if (!dtype) throw new Error(`${path}: tensor '${name}' has unsupported dtype ${info.dtype}`);
    out[name] = fromBuffer(buf, dtype, info.shape, {
      byteOffset: 8 + headerLen + info.data_offsets[0],
      copyIfMisaligned: true,
    });
  }
  return out;
}
