/**
 * Resizing ViT's grid of patch position embeddings for images of another size, as Python's
 * `ViTEmbeddings.interpolate_pos_encoding`: bicubic (a = −0.75, PyTorch's
 * `interpolate(mode="bicubic", align_corners=False)`) with the scale factor
 * `(new + 0.1) / old` Python passes. Bicubic is separable, so the resize is two small matrix
 * products `Mh · P · Mwᵀ`, which keeps the result differentiable in the embeddings.
 */
import { cat, matmul, narrow, permute, reshape, type Tensor, tensor } from "@hearth/tensor";

function cubic(x: number, a = -0.75): number {
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/**
 * The `[outSize, inSize]` matrix of 1-d bicubic resampling with PyTorch's source coordinate
 * `(dst + 0.5) / scale − 0.5` and border-clamped taps.
 */
export function bicubicMatrix(inSize: number, outSize: number, scale: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) / scale - 0.5;
    const i0 = Math.floor(src);
    const frac = src - i0;
    for (let k = -1; k <= 2; k++) {
      const idx = Math.min(Math.max(i0 + k, 0), inSize - 1);
      m[o * inSize + idx] = (m[o * inSize + idx] as number) + cubic(k - frac);
    }
  }
  return m;
}

/**
 * Position embeddings `[1, 1 + N, E]` (class token first, then a √N × √N grid) resized for a
 * `gridH × gridW` patch grid: `[1, 1 + gridH·gridW, E]`.
 */
export function interpolatePositions(positions: Tensor, gridH: number, gridW: number): Tensor {
  const [, n1, E] = positions.shape as [number, number, number];
  const side = Math.floor(Math.sqrt(n1 - 1));
  if (side * side === n1 - 1 && gridH === side && gridW === side) return positions;
  const cls = narrow(positions, 1, 0, 1);
  const grid = permute(reshape(narrow(positions, 1, 1, n1 - 1), [side, side, E]), [2, 0, 1]); // [E, side, side]
  const mh = tensor(bicubicMatrix(side, gridH, (gridH + 0.1) / side), { shape: [gridH, side] });
  const mwT = permute(tensor(bicubicMatrix(side, gridW, (gridW + 0.1) / side), { shape: [gridW, side] }), [1, 0]);
  const resized = matmul(matmul(mh, grid), mwT); // [E, gridH, gridW]
  const patches = reshape(permute(resized, [1, 2, 0]), [1, gridH * gridW, E]);
  return cat([cls, patches], 1);
}
