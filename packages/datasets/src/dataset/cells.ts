/** Image and Audio cells as lazy objects when rows or batches are read. */
import type { Column } from "../arrow/convert.ts";
import { type Feature, featureKind } from "../features/features.ts";
import { LazyAudio, LazyImage } from "../features/media.ts";

/** Wraps Image/Audio cells as lazy objects; other values pass through. */
export function decodeCell(v: unknown, f: Feature): unknown {
  const k = featureKind(f);
  if ((k === "Image" || k === "Audio") && v && typeof v === "object" && (f as { decode?: boolean }).decode !== false) {
    const o = v as { bytes?: Uint8Array | null; path?: string | null };
    return k === "Image"
      ? new LazyImage(o.path ?? null, o.bytes ?? null)
      : new LazyAudio(o.path ?? null, o.bytes ?? null, (f as { samplingRate?: number }).samplingRate);
  }
  return v;
}

/** {@link decodeCell} over a column. */
export function decodeColumn(c: Column, f: Feature): Column {
  const k = featureKind(f);
  if (k !== "Image" && k !== "Audio") return c;
  return Array.from(c as ArrayLike<unknown>, (v) => decodeCell(v, f));
}
