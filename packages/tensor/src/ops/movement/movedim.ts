import { normalizeDim } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { permute } from "./permute.ts";

/** A view with dim `source` moved to position `destination`. */
export function movedim(x: Tensor, source: number, destination: number): Tensor {
  const s = normalizeDim("movedim", source, x.ndim, "source");
  const d = normalizeDim("movedim", destination, x.ndim, "destination");
  const dims = x.shape.map((_, i) => i).filter((i) => i !== s);
  dims.splice(d, 0, s);
  return permute(x, dims);
}
