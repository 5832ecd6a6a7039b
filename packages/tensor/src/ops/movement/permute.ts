/** Dim-reordering views: permute, transpose. */
import { normalizeDim } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";

/** A view with dims reordered: output dim i is input dim `dims[i]`. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  return apply1("permute", [x], { dims: [...dims] });
}

/** A view with dims `dim0` and `dim1` swapped (the last two by default). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const a = normalizeDim("transpose", dim0, x.ndim, "dim0");
  const b = normalizeDim("transpose", dim1, x.ndim, "dim1");
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return apply1("permute", [x], { dims });
}
