/**
 * Features: the typed description of a dataset's columns, in the same JSON shape the Python
 * `datasets` library writes to `dataset_info.json` and to the `huggingface` key of Arrow schema
 * metadata (`{"dtype": "int64", "_type": "Value"}`, `{"names": [...], "_type": "ClassLabel"}`,
 * `{"feature": {...}, "_type": "List"}`, `{"_type": "Image"}`, nested plain objects for structs).
 */
import { fail } from "../errors.ts";

/** A scalar column: `dtype` is one of Python's names (`int64`, `float32`, `string`, `bool`...). */
export interface ValueFeature {
  _type: "Value";
  dtype: string;
}
/** Integer labels with names; stored as int64. */
export interface ClassLabelFeature {
  _type: "ClassLabel";
  names: string[];
}
/** A variable-length list (or fixed-length when `length` > 0). `Sequence` is the legacy name. */
export interface ListFeature {
  _type: "List" | "Sequence";
  feature: Feature;
  length?: number;
}
/** An image, stored as `struct<bytes: binary, path: string>` and decoded lazily. */
export interface ImageFeature {
  _type: "Image";
  mode?: string;
  decode?: boolean;
}
/** An audio clip, stored as `struct<bytes: binary, path: string>` and decoded lazily. */
export interface AudioFeature {
  _type: "Audio";
  samplingRate?: number;
  decode?: boolean;
}
/** A nested struct: field name → feature. */
export interface StructFeature {
  [name: string]: Feature;
}
/** Any feature. */
export type Feature = ValueFeature | ClassLabelFeature | ListFeature | ImageFeature | AudioFeature | StructFeature;
/** The features of a dataset: column name → feature (column order is key order). */
export type Features = Record<string, Feature>;

/** The scalar dtypes Value accepts (Python's names). */
export const VALUE_DTYPES = [
  "null",
  "bool",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "float16",
  "float32",
  "float64",
  "string",
  "large_string",
  "binary",
  "large_binary",
  "date32",
  "date64",
  "timestamp[s]",
  "timestamp[ms]",
  "timestamp[us]",
  "timestamp[ns]",
] as const;

/** `Value("int64")`. */
export function Value(dtype: string): ValueFeature {
  const normalised = dtype === "double" ? "float64" : dtype === "float" ? "float32" : dtype;
  if (!(VALUE_DTYPES as readonly string[]).includes(normalised)) {
    throw fail(
      "HEARTH_DATASETS_BAD_FEATURE",
      `Value: argument 'dtype' must be one of ${VALUE_DTYPES.join(", ")}, got '${dtype}'`,
    );
  }
  return { _type: "Value", dtype: normalised };
}
/** `ClassLabel({ names: ["neg", "pos"] })` or `ClassLabel({ numClasses: 3 })`. */
export function ClassLabel(options: { names?: string[]; numClasses?: number }): ClassLabelFeature {
  const names = options.names ?? Array.from({ length: options.numClasses ?? 0 }, (_, i) => String(i));
  if (names.length === 0) {
    throw fail("HEARTH_DATASETS_BAD_FEATURE", "ClassLabel: give 'names' or a positive 'numClasses', got neither");
  }
  return { _type: "ClassLabel", names: [...names] };
}
/** `List(Value("int32"))`; a positive `length` makes a fixed-size list. */
export function List(feature: Feature, length?: number): ListFeature {
  return length !== undefined && length > 0 ? { _type: "List", feature, length } : { _type: "List", feature };
}
/** Legacy alias of {@link List}, as in Python. */
export const Sequence = List;
/** `Image()`: bytes and/or path, decoded on access. */
export function Image(options: { mode?: string; decode?: boolean } = {}): ImageFeature {
  return { _type: "Image", ...options };
}
/** `Audio({ samplingRate: 16000 })`: bytes and/or path, decoded on access. */
export function Audio(options: { samplingRate?: number; decode?: boolean } = {}): AudioFeature {
  return { _type: "Audio", ...options };
}

/** The kind of a feature (`"struct"` for nested objects). */
export function featureKind(f: Feature): "Value" | "ClassLabel" | "List" | "Image" | "Audio" | "struct" {
  const t = (f as { _type?: unknown })._type;
  if (t === "Value" || t === "ClassLabel" || t === "Image" || t === "Audio") return t;
  if (t === "List" || t === "Sequence") return "List";
  return "struct";
}

/** Features as Python writes them (`sampling_rate` for Audio; `Sequence` normalised to `List`). */
export function featuresToJson(features: Features): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(features)) out[name] = featureToJson(f);
  return out;
}

function featureToJson(f: Feature): unknown {
  switch (featureKind(f)) {
    case "Value":
      return { dtype: (f as ValueFeature).dtype, _type: "Value" };
    case "ClassLabel":
      return { names: (f as ClassLabelFeature).names, _type: "ClassLabel" };
    case "List": {
      const l = f as ListFeature;
      const out: Record<string, unknown> = { feature: featureToJson(l.feature) };
      if (l.length !== undefined && l.length > 0) out.length = l.length;
      out._type = "List";
      return out;
    }
    case "Image": {
      const i = f as ImageFeature;
      const out: Record<string, unknown> = {};
      if (i.mode !== undefined) out.mode = i.mode;
      if (i.decode === false) out.decode = false;
      out._type = "Image";
      return out;
    }
    case "Audio": {
      const a = f as AudioFeature;
      const out: Record<string, unknown> = {};
      if (a.samplingRate !== undefined) out.sampling_rate = a.samplingRate;
      if (a.decode === false) out.decode = false;
      out._type = "Audio";
      return out;
    }
    default:
      return featuresToJson(f as Features);
  }
}

/** Parses the JSON form (Python's `Features.to_dict()`, also the legacy list/`Sequence` forms). */
export function featuresFromJson(json: unknown, where = "features"): Features {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw fail("HEARTH_DATASETS_BAD_FEATURE", `${where}: expected an object of features, got ${describe(json)}`);
  }
  const out: Features = {};
  for (const [name, f] of Object.entries(json as Record<string, unknown>))
    out[name] = featureFromJson(f, `${where}.${name}`);
  return out;
}

function featureFromJson(json: unknown, where: string): Feature {
  if (Array.isArray(json)) {
    // Python's shorthand: a one-element list means "list of that feature".
    if (json.length !== 1)
      throw fail("HEARTH_DATASETS_BAD_FEATURE", `${where}: a list feature holds one element, got ${json.length}`);
    return List(featureFromJson(json[0], `${where}[0]`));
  }
  if (json === null || typeof json !== "object") {
    throw fail("HEARTH_DATASETS_BAD_FEATURE", `${where}: expected a feature object, got ${describe(json)}`);
  }
  const o = json as Record<string, unknown>;
  switch (o._type) {
    case "Value":
      return Value(String(o.dtype));
    case "ClassLabel":
      return ClassLabel({ names: o.names as string[] | undefined, numClasses: o.num_classes as number | undefined });
    case "List":
    case "Sequence":
    case "LargeList": {
      const length = typeof o.length === "number" ? o.length : undefined;
      const inner = featureFromJson(o.feature, `${where}.feature`);
      // Python's legacy Sequence of a dict is stored as a struct of lists (Arrow: struct<a: list<...>>).
      if (o._type === "Sequence" && featureKind(inner) === "struct") {
        const out: Features = {};
        for (const [k, sub] of Object.entries(inner as Features)) out[k] = List(sub, length);
        return out;
      }
      return List(inner, length);
    }
    case "Image":
      return Image({
        ...(typeof o.mode === "string" ? { mode: o.mode } : {}),
        ...(o.decode === false ? { decode: false } : {}),
      });
    case "Audio":
      return Audio({
        ...(typeof o.sampling_rate === "number" ? { samplingRate: o.sampling_rate } : {}),
        ...(o.decode === false ? { decode: false } : {}),
      });
    case undefined:
      return featuresFromJson(o, where);
    default:
      throw fail("HEARTH_DATASETS_BAD_FEATURE", `${where}: unknown feature type '${String(o._type)}'`);
  }
}

/** Whether two features describe the same type (structural equality). */
export function featuresEqual(a: Feature | Features, b: Feature | Features): boolean {
  return JSON.stringify(featureToJson(a as Feature)) === JSON.stringify(featureToJson(b as Feature));
}

/** Human-readable type, for error messages: `int64`, `list<string>`, `struct{a: int64}`. */
export function featureToString(f: Feature): string {
  switch (featureKind(f)) {
    case "Value":
      return (f as ValueFeature).dtype;
    case "ClassLabel":
      return `ClassLabel(${(f as ClassLabelFeature).names.length} names)`;
    case "List":
      return `list<${featureToString((f as ListFeature).feature)}>`;
    case "Image":
      return "Image";
    case "Audio":
      return "Audio";
    default:
      return `struct{${Object.entries(f as Features)
        .map(([k, v]) => `${k}: ${featureToString(v)}`)
        .join(", ")}}`;
  }
}

/** Flattens nested structs into `parent.child` columns, as Python's `Features.flatten()`. */
export function flattenFeatures(features: Features): Features {
  const out: Features = {};
  for (const [name, f] of Object.entries(features)) {
    if (featureKind(f) === "struct") {
      for (const [sub, sf] of Object.entries(flattenFeatures(f as Features))) out[`${name}.${sub}`] = sf;
    } else {
      out[name] = f;
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v;
}
