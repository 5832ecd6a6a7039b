/**
 * Conversions between features, Arrow types, and plain JavaScript columns.
 *
 * JS → Arrow: numeric typed arrays become Arrow buffers without a per-value loop; strings are
 * written straight into offsets + UTF-8 bytes (much faster than Arrow's builders); nested values go
 * through Arrow's builders. Arrow → JS: numeric columns without nulls come out as zero-copy typed
 * array views; int64 becomes `number` (exact up to 2^53), like Python's `int`.
 */
import {
  List as ArrowList,
  Binary,
  Bool,
  type Data,
  type DataType,
  DateDay,
  DateMillisecond,
  Field,
  FixedSizeList,
  Float16,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  LargeBinary,
  LargeUtf8,
  makeData,
  makeVector,
  Null,
  Schema,
  Struct,
  Timestamp,
  TimeUnit,
  Type,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  type Vector,
  vectorFromArray,
} from "apache-arrow";
import { fail } from "../errors.ts";
import {
  type Feature,
  type Features,
  featureKind,
  featuresFromJson,
  featuresToJson,
  featureToString,
  List,
  type ListFeature,
  Value,
  type ValueFeature,
} from "../features/features.ts";

/** A column handed to or returned by user functions: a JS array or a numeric typed array. */
export type Column = unknown[] | ArrayLike<number>;

const imageStruct = () => new Struct([new Field("bytes", new Binary(), true), new Field("path", new Utf8(), true)]);

/** The Arrow type that stores a feature (ClassLabel → int64, Image/Audio → struct<bytes, path>). */
export function featureToArrowType(f: Feature): DataType {
  switch (featureKind(f)) {
    case "Value":
      return dtypeToArrow((f as ValueFeature).dtype);
    case "ClassLabel":
      return new Int64();
    case "List": {
      const l = f as ListFeature;
      const child = new Field("item", featureToArrowType(l.feature), true);
      return l.length !== undefined && l.length > 0 ? new FixedSizeList(l.length, child) : new ArrowList(child);
    }
    case "Image":
    case "Audio":
      return imageStruct();
    default:
      return new Struct(
        Object.entries(f as Features).map(([name, sub]) => new Field(name, featureToArrowType(sub), true)),
      );
  }
}

function dtypeToArrow(dtype: string): DataType {
  switch (dtype) {
    case "null":
      return new Null();
    case "bool":
      return new Bool();
    case "int8":
      return new Int8();
    case "int16":
      return new Int16();
    case "int32":
      return new Int32();
    case "int64":
      return new Int64();
    case "uint8":
      return new Uint8();
    case "uint16":
      return new Uint16();
    case "uint32":
      return new Uint32();
    case "uint64":
      return new Uint64();
    case "float16":
      return new Float16();
    case "float32":
      return new Float32();
    case "float64":
      return new Float64();
    case "string":
      return new Utf8();
    case "large_string":
      return new LargeUtf8();
    case "binary":
      return new Binary();
    case "large_binary":
      return new LargeBinary();
    case "date32":
      return new DateDay();
    case "date64":
      return new DateMillisecond();
    case "timestamp[s]":
      return new Timestamp(TimeUnit.SECOND);
    case "timestamp[ms]":
      return new Timestamp(TimeUnit.MILLISECOND);
    case "timestamp[us]":
      return new Timestamp(TimeUnit.MICROSECOND);
    case "timestamp[ns]":
      return new Timestamp(TimeUnit.NANOSECOND);
    default:
      throw fail("HEARTH_DATASETS_BAD_FEATURE", `Value: no Arrow type for dtype '${dtype}'`);
  }
}

/** The feature Python infers for an Arrow type (no ClassLabel/Image without metadata). */
export function arrowTypeToFeature(t: DataType): Feature {
  switch (t.typeId) {
    case Type.Null:
      return Value("null");
    case Type.Bool:
      return Value("bool");
    case Type.Int: {
      const i = t as Int8;
      return Value(`${i.isSigned ? "int" : "uint"}${i.bitWidth}`);
    }
    case Type.Float: {
      const p = (t as Float32).precision;
      return Value(p === 0 ? "float16" : p === 1 ? "float32" : "float64");
    }
    case Type.Utf8:
      return Value("string");
    case Type.LargeUtf8:
      return Value("large_string");
    case Type.Binary:
    case Type.FixedSizeBinary:
      return Value("binary");
    case Type.LargeBinary:
      return Value("large_binary");
    case Type.Date:
      return Value((t as DateDay).unit === 0 ? "date32" : "date64");
    case Type.Timestamp: {
      const unit = ["s", "ms", "us", "ns"][(t as Timestamp).unit];
      return Value(`timestamp[${unit}]`);
    }
    case Type.List:
    case Type.LargeList:
      return List(arrowTypeToFeature((t as ArrowList).children[0].type));
    case Type.FixedSizeList:
      return List(arrowTypeToFeature((t as FixedSizeList).children[0].type), (t as FixedSizeList).listSize);
    case Type.Struct: {
      const out: Features = {};
      for (const c of (t as Struct).children) out[c.name] = arrowTypeToFeature(c.type);
      return out;
    }
    case Type.Dictionary:
      return arrowTypeToFeature((t as unknown as { dictionary: DataType }).dictionary);
    default:
      throw fail("HEARTH_DATASETS_BAD_FEATURE", `features: the Arrow type ${String(t)} has no datasets feature`);
  }
}

/** An Arrow schema for features, with Python's `huggingface` metadata so Python reads the features back. */
export function schemaFromFeatures(features: Features, fingerprint?: string): Schema {
  const fields = Object.entries(features).map(([name, f]) => new Field(name, featureToArrowType(f), true));
  const meta: Record<string, unknown> = { info: { features: featuresToJson(features) } };
  if (fingerprint !== undefined) meta.fingerprint = fingerprint;
  return new Schema(fields, new Map([["huggingface", JSON.stringify(meta)]]));
}

/** Features from an Arrow schema: the `huggingface` metadata when present, else inferred. */
export function featuresFromSchema(schema: Schema): Features {
  const raw = schema.metadata.get("huggingface");
  if (raw) {
    try {
      const parsed = JSON.parse(raw) as { info?: { features?: unknown } };
      if (parsed.info?.features) {
        const f = featuresFromJson(parsed.info.features, "schema metadata features");
        if (Object.keys(f).length === schema.fields.length) return f;
      }
    } catch {
      // Malformed metadata: fall back to the Arrow types, which are authoritative.
    }
  }
  const out: Features = {};
  for (const field of schema.fields) out[field.name] = arrowTypeToFeature(field.type);
  return out;
}

/** Infers a feature from JS values the way Python infers from Python objects. */
export function inferFeature(values: Column, name = "column"): Feature {
  if (isTypedArray(values)) return typedArrayFeature(values);
  let kind: Feature | null = null;
  for (const v of values as unknown[]) {
    if (v === null || v === undefined) continue;
    const f = inferOne(v, name);
    kind = kind === null ? f : unify(kind, f, name);
  }
  return kind ?? Value("null");
}

function inferOne(v: unknown, name: string): Feature {
  switch (typeof v) {
    case "number":
      return Value(Number.isInteger(v) ? "int64" : "float64");
    case "bigint":
      return Value("int64");
    case "string":
      return Value("string");
    case "boolean":
      return Value("bool");
    case "object": {
      if (v instanceof Uint8Array) return Value("binary");
      if (isTypedArray(v)) return List(typedArrayFeature(v));
      if (Array.isArray(v)) return List(inferFeature(v, `${name}[]`));
      if (v instanceof Date) return Value("timestamp[ms]");
      const out: Features = {};
      for (const [k, sub] of Object.entries(v as Record<string, unknown>)) {
        out[k] = sub === null || sub === undefined ? Value("null") : inferOne(sub, `${name}.${k}`);
      }
      return out;
    }
    default:
      throw fail(
        "HEARTH_DATASETS_BAD_FEATURE",
        `features: column '${name}' holds a ${typeof v}, which has no Arrow type`,
      );
  }
}

function unify(a: Feature, b: Feature, name: string): Feature {
  const ka = featureKind(a);
  const kb = featureKind(b);
  if (ka === "Value" && kb === "Value") {
    const da = (a as ValueFeature).dtype;
    const db = (b as ValueFeature).dtype;
    if (da === db) return a;
    if (da === "null") return b;
    if (db === "null") return a;
    if ((da === "int64" && db === "float64") || (da === "float64" && db === "int64")) return Value("float64");
  } else if (ka === "List" && kb === "List") {
    return List(unify((a as ListFeature).feature, (b as ListFeature).feature, `${name}[]`));
  } else if (ka === "struct" && kb === "struct") {
    const out: Features = { ...(a as Features) };
    for (const [k, f] of Object.entries(b as Features)) out[k] = k in out ? unify(out[k], f, `${name}.${k}`) : f;
    return out;
  } else if (ka === "Value" && (a as ValueFeature).dtype === "null") {
    return b;
  } else if (kb === "Value" && (b as ValueFeature).dtype === "null") {
    return a;
  }
  throw fail(
    "HEARTH_DATASETS_SCHEMA_CONFLICT",
    `features: column '${name}' mixes ${featureToString(a)} and ${featureToString(b)} values`,
  );
}

/** Merges two inferred features (used across batches and files); throws on a real conflict. */
export function unifyFeatures(a: Features, b: Features, where: string): Features {
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length || ak.some((k) => !(k in b))) {
    throw fail(
      "HEARTH_DATASETS_SCHEMA_CONFLICT",
      `${where}: columns differ: [${ak.join(", ")}] versus [${bk.join(", ")}]`,
    );
  }
  const out: Features = {};
  for (const k of ak) out[k] = unify(a[k], b[k], `${where}: column '${k}'`);
  return out;
}

type TypedArray =
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** Whether a value is a numeric typed array (not a DataView). */
export function isTypedArray(v: unknown): v is TypedArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

function typedArrayFeature(v: TypedArray): ValueFeature {
  if (v instanceof Float64Array) return Value("float64");
  if (v instanceof Float32Array) return Value("float32");
  if (v instanceof Int32Array) return Value("int32");
  if (v instanceof Int16Array) return Value("int16");
  if (v instanceof Int8Array) return Value("int8");
  if (v instanceof Uint32Array) return Value("uint32");
  if (v instanceof Uint16Array) return Value("uint16");
  if (v instanceof Uint8Array) return Value("uint8");
  if (v instanceof BigInt64Array) return Value("int64");
  return Value("uint64");
}

const typedCtor: Record<string, { new (n: number): TypedArray; from(a: ArrayLike<unknown>): TypedArray }> = {
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
} as never;

const encoder = new TextEncoder();

/** Builds the Arrow data of one column of `length` rows from JS values, for the given feature. */
export function columnToData(values: Column, feature: Feature, name: string): Data {
  const type = featureToArrowType(feature);
  const kind = featureKind(feature);
  const length = values.length;
  if (kind === "Value" || kind === "ClassLabel") {
    const dtype = kind === "ClassLabel" ? "int64" : (feature as ValueFeature).dtype;
    const hasNull = !isTypedArray(values) && (values as unknown[]).some((v) => v === null || v === undefined);
    if (!hasNull) {
      const ctor = typedCtor[dtype];
      if (ctor) {
        const data =
          isTypedArray(values) && values instanceof ctor ? values : ctor.from(checkNumbers(values, dtype, name));
        return makeData({ type: type as Float64, length, data: data as Float64Array });
      }
      if (dtype === "int64" || dtype === "uint64") {
        const out = dtype === "int64" ? new BigInt64Array(length) : new BigUint64Array(length);
        for (let i = 0; i < length; i++) {
          const v = (values as ArrayLike<unknown>)[i];
          out[i] =
            typeof v === "bigint" ? v : BigInt(toInteger(v, dtype, name, kind === "ClassLabel" ? feature : null));
        }
        return makeData({ type: type as Int64, length, data: out as BigInt64Array });
      }
      if (dtype === "string" || dtype === "large_string") return stringData(values as unknown[], type, name);
    }
    if (dtype.startsWith("timestamp") || dtype === "date32" || dtype === "date64")
      return temporalData(values, dtype, type, name);
  }
  try {
    const prepared =
      kind === "Value" && ((feature as ValueFeature).dtype === "int64" || (feature as ValueFeature).dtype === "uint64")
        ? Array.from(values as unknown[], (v) => (typeof v === "number" ? BigInt(v) : v))
        : prepareNested(values as unknown[], feature);
    return vectorFromArray(prepared as unknown[], type).data[0];
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith("HEARTH_")) throw error;
    throw fail(
      "HEARTH_DATASETS_CAST_FAILED",
      `write column '${name}': values do not fit ${featureToString(feature)}: ${(error as Error).message}`,
      error,
    );
  }
}

const UNIT_PER_MS: Record<string, number> = {
  "timestamp[s]": 1e-3,
  "timestamp[ms]": 1,
  "timestamp[us]": 1e3,
  "timestamp[ns]": 1e6,
  date64: 1,
};

/** Timestamps/dates from Date objects, numbers or bigints in the column's unit (nulls allowed). */
function temporalData(values: Column, dtype: string, type: DataType, name: string): Data {
  const n = values.length;
  const days = dtype === "date32";
  const out = days ? new Int32Array(n) : new BigInt64Array(n);
  let validity: Uint8Array | undefined;
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const v = (values as ArrayLike<unknown>)[i];
    if (v === null || v === undefined) {
      if (!validity) validity = new Uint8Array((n + 7) >> 3).fill(0xff);
      validity[i >> 3] &= ~(1 << (i & 7));
      nullCount++;
      continue;
    }
    if (days) {
      const d = v instanceof Date ? Math.floor(v.getTime() / 86400000) : Number(v);
      (out as Int32Array)[i] = d;
    } else if (v instanceof Date) {
      (out as BigInt64Array)[i] = BigInt(Math.round(v.getTime() * (UNIT_PER_MS[dtype] ?? 1)));
    } else if (typeof v === "bigint" || typeof v === "number") {
      (out as BigInt64Array)[i] = typeof v === "bigint" ? v : BigInt(Math.round(v));
    } else {
      throw fail(
        "HEARTH_DATASETS_CAST_FAILED",
        `write column '${name}': expected ${dtype} (Date or number), got ${JSON.stringify(v)}`,
      );
    }
  }
  return makeData({ type: type as Int64, length: n, nullCount, nullBitmap: validity, data: out as BigInt64Array });
}

function checkNumbers(values: Column, dtype: string, name: string): ArrayLike<number> {
  if (isTypedArray(values)) return values as ArrayLike<number>;
  for (const v of values as unknown[]) {
    if (typeof v !== "number" && typeof v !== "boolean") {
      throw fail(
        "HEARTH_DATASETS_CAST_FAILED",
        `write column '${name}': expected ${dtype} numbers, got ${typeof v} ${JSON.stringify(v)}`,
      );
    }
  }
  return values as ArrayLike<number>;
}

function toInteger(v: unknown, dtype: string, name: string, label: Feature | null): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && label) {
    const idx = (label as { names: string[] }).names.indexOf(v);
    if (idx >= 0) return idx;
  }
  throw fail(
    "HEARTH_DATASETS_CAST_FAILED",
    `write column '${name}': expected ${dtype} integers, got ${JSON.stringify(v)}`,
  );
}

/** Nested values for Arrow's builders: int64 leaves as bigint, ClassLabel strings as ids. */
function prepareNested(values: unknown[], feature: Feature): unknown[] {
  return values.map((v) => prepareValue(v, feature));
}

function prepareValue(v: unknown, f: Feature): unknown {
  if (v === null || v === undefined) return null;
  switch (featureKind(f)) {
    case "Value": {
      const d = (f as ValueFeature).dtype;
      if ((d === "int64" || d === "uint64") && typeof v === "number") return BigInt(v);
      if ((d === "string" || d === "large_string") && v instanceof Uint8Array) return decoder.decode(v);
      if (d.startsWith("timestamp") || d.startsWith("date")) {
        // Arrow's builders take epoch milliseconds for every unit.
        if (v instanceof Date) return v.getTime();
        if (typeof v === "bigint" || typeof v === "number") return Number(v) / (UNIT_PER_MS[d] ?? 1);
      }
      return v;
    }
    case "ClassLabel":
      return BigInt(typeof v === "string" ? (f as { names: string[] }).names.indexOf(v) : (v as number));
    case "List":
      return Array.from(v as ArrayLike<unknown>, (x) => prepareValue(x, (f as ListFeature).feature));
    case "Image":
    case "Audio": {
      const o = v as { bytes?: Uint8Array | null; path?: string | Uint8Array | null };
      if (typeof v === "string") return { bytes: null, path: v };
      const path = o.path instanceof Uint8Array ? decoder.decode(o.path) : (o.path ?? null);
      return { bytes: o.bytes ?? null, path };
    }
    default: {
      const out: Record<string, unknown> = {};
      for (const [k, sf] of Object.entries(f as Features)) out[k] = prepareValue((v as Record<string, unknown>)[k], sf);
      return out;
    }
  }
}

function stringData(values: unknown[], type: DataType, name: string): Data {
  const length = values.length;
  const large = type.typeId === Type.LargeUtf8;
  const offsets = large ? new BigInt64Array(length + 1) : new Int32Array(length + 1);
  let nullCount = 0;
  let bytes = new Uint8Array(Math.max(64, length * 16));
  let pos = 0;
  let validity: Uint8Array | undefined;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      if (!validity) validity = new Uint8Array((length + 7) >> 3).fill(0xff);
      validity[i >> 3] &= ~(1 << (i & 7));
      nullCount++;
    } else if (v instanceof Uint8Array) {
      // Already UTF-8 (strings read from Parquet): copy the bytes.
      if (pos + v.byteLength > bytes.length) {
        const grown = new Uint8Array(Math.max(pos + v.byteLength, bytes.length * 2));
        grown.set(bytes.subarray(0, pos));
        bytes = grown;
      }
      bytes.set(v, pos);
      pos += v.byteLength;
    } else {
      if (typeof v !== "string") {
        throw fail(
          "HEARTH_DATASETS_CAST_FAILED",
          `write column '${name}': expected strings, got ${typeof v} ${JSON.stringify(v)}`,
        );
      }
      const need = pos + v.length * 3;
      if (need > bytes.length) {
        const grown = new Uint8Array(Math.max(need, bytes.length * 2));
        grown.set(bytes.subarray(0, pos));
        bytes = grown;
      }
      pos += encoder.encodeInto(v, bytes.subarray(pos)).written;
    }
    if (large) (offsets as BigInt64Array)[i + 1] = BigInt(pos);
    else (offsets as Int32Array)[i + 1] = pos;
  }
  return makeData({
    type: type as Utf8,
    length,
    nullCount,
    nullBitmap: validity,
    valueOffsets: offsets as Int32Array,
    data: bytes.subarray(0, pos),
  });
}

const decoder = new TextDecoder();

/**
 * A JS column from Arrow data. With `typed`, numeric columns without nulls are zero-copy typed
 * array views; otherwise plain arrays of JS values (int64 → number, structs → objects, lists → arrays).
 */
export function dataToColumn(data: Data, feature: Feature, typed: boolean): Column {
  const t = data.type;
  const noNulls = data.nullCount === 0;
  if (
    typed &&
    noNulls &&
    (t.typeId === Type.Float || t.typeId === Type.Int) &&
    !(t.typeId === Type.Float && (t as Float32).precision === 0)
  ) {
    const bits: number = t.typeId === Type.Int ? (t as unknown as { bitWidth: number }).bitWidth : 0;
    if (bits !== 64) return (data.values as TypedArray).subarray(0, data.length) as Column;
  }
  if (noNulls && t.typeId === Type.Int && (t as unknown as { bitWidth: number }).bitWidth === 64) {
    const src = (data.values as BigInt64Array).subarray(0, data.length);
    const out = new Array<number>(data.length);
    for (let i = 0; i < out.length; i++) out[i] = Number(src[i]);
    return out;
  }
  if (noNulls && t.typeId === Type.Utf8) {
    const offsets = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const out = new Array<string>(data.length);
    for (let i = 0; i < data.length; i++) {
      const a = offsets[i];
      const b = offsets[i + 1];
      out[i] = a === b ? "" : decoder.decode(bytes.subarray(a, b));
    }
    return out;
  }
  if (t.typeId === Type.Timestamp || t.typeId === Type.Date) {
    const unit =
      t.typeId === Type.Date
        ? (t as DateDay).unit === 0
          ? "date32"
          : "date64"
        : `timestamp[${["s", "ms", "us", "ns"][(t as Timestamp).unit]}]`;
    const vals = data.values as BigInt64Array | Int32Array;
    const out = new Array<Date | null>(data.length);
    for (let i = 0; i < data.length; i++) {
      if (!data.getValid(i)) {
        out[i] = null;
        continue;
      }
      const raw = Number(vals[i]);
      out[i] = new Date(unit === "date32" ? raw * 86400000 : raw / (UNIT_PER_MS[unit] ?? 1));
    }
    return out;
  }
  const vector = makeVectorFromData(data);
  const out = new Array<unknown>(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toJs(vector.get(i), feature);
  return out;
}

function makeVectorFromData(data: Data): Vector {
  return makeVector(data);
}

// apache-arrow slices value buffers itself; `Data.offset` only indexes the validity bitmap.
/** Converts one Arrow value (from `Vector.get`) to a plain JS value. */
export function toJs(v: unknown, f: Feature | null): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number" && f && featureKind(f) === "Value" && /^(timestamp|date)/.test((f as ValueFeature).dtype))
    return new Date(v);
  if (typeof v !== "object") return v;
  if (v instanceof Uint8Array) return v;
  const kind = f ? featureKind(f) : null;
  if (isTypedArray(v)) {
    if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Array.from(v, Number);
    return Array.from(v as ArrayLike<number>);
  }
  const maybeVector = v as { [Symbol.iterator]?: unknown; toArray?: unknown; type?: unknown };
  if (typeof maybeVector.toArray === "function" && maybeVector.type !== undefined) {
    const inner = kind === "List" ? (f as ListFeature).feature : null;
    return Array.from(v as Iterable<unknown>, (x) => toJs(x, inner));
  }
  if (v instanceof Date) return v;
  const out: Record<string, unknown> = {};
  const src =
    typeof (v as { toJSON?: () => unknown }).toJSON === "function" ? (v as { toJSON: () => object }).toJSON() : v;
  for (const [k, x] of Object.entries(src as Record<string, unknown>)) {
    out[k] = toJs(x, kind === "struct" ? ((f as Features)[k] ?? null) : null);
  }
  return out;
}

/** Decodes a UTF-8 column's bytes; exported for loaders that stream text. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
