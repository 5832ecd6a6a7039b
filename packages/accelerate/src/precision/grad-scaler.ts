/**
 * Dynamic loss scaling for float16 training (PyTorch's `GradScaler`): the loss is multiplied by
 * `scale` before backward so small gradients survive float16; before the optimiser step the
 * gradients are divided back, and a step whose gradients hold inf/NaN is skipped and the scale
 * halved. After `growthInterval` clean steps the scale doubles.
 */
import { mul, noGrad, readNumbers, type Tensor, tensor } from "@hearth/tensor";
import { AccelerateError } from "../errors.ts";

/** Options of {@link GradScaler}. */
export interface GradScalerOptions {
  /** Starting scale (default 2^16). */
  initScale?: number;
  /** Factor on growth (default 2). */
  growthFactor?: number;
  /** Factor on overflow (default 0.5). */
  backoffFactor?: number;
  /** Clean steps between growths (default 2000). */
  growthInterval?: number;
}

/** The scaler's saved state (as PyTorch's `state_dict` keys). */
export interface GradScalerState {
  scale: number;
  growth_factor: number;
  backoff_factor: number;
  growth_interval: number;
  _growth_tracker: number;
}

export class GradScaler {
  scale: number;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  private growthTracker = 0;
  private unscaled = false;
  private foundInf = false;

  constructor(opts: GradScalerOptions = {}) {
    this.scale = opts.initScale ?? 2 ** 16;
    this.growthFactor = opts.growthFactor ?? 2;
    this.backoffFactor = opts.backoffFactor ?? 0.5;
    this.growthInterval = opts.growthInterval ?? 2000;
    if (!(this.scale > 0) || !(this.growthFactor > 1) || !(this.backoffFactor > 0 && this.backoffFactor < 1)) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_ARGUMENT",
        `GradScaler: expected initScale > 0, growthFactor > 1, 0 < backoffFactor < 1, got ${this.scale}, ${this.growthFactor}, ${this.backoffFactor}`,
      );
    }
  }

  /** `loss * scale` (float32), the tensor to back-propagate. */
  scaleLoss(loss: Tensor): Tensor {
    return mul(loss, this.scale);
  }

  /**
   * Divides the gradients of `params` by the scale in place (once per step) and records whether
   * any is inf/NaN. Returns true when all are finite.
   */
  unscale(params: Iterable<Tensor>): boolean {
    if (this.unscaled) return !this.foundInf;
    const inv = 1 / this.scale;
    let finite = true;
    noGrad(() => {
      for (const p of params) {
        if (!p.grad) continue;
        const values = readNumbers(p.grad.view_());
        for (let i = 0; i < values.length; i++) {
          const v = (values[i] as number) * inv;
          if (!Number.isFinite(v)) finite = false;
          values[i] = v;
        }
        const g = tensor(Float32Array.from(values), { shape: [...p.grad.shape] });
        p.grad.dispose();
        p.grad = p.dtype === "float32" ? g : g.to(p.dtype);
      }
    });
    this.unscaled = true;
    this.foundInf = !finite;
    return finite;
  }

  /**
   * Runs `step` unless this step's gradients overflowed, then updates the scale. Returns
   * whether the step ran.
   */
  step(params: Iterable<Tensor>, step: () => void): boolean {
    const ok = this.unscale(params);
    if (ok) step();
    this.update(ok);
    return ok;
  }

  private update(ok: boolean): void {
    if (!ok) {
      this.scale *= this.backoffFactor;
      this.growthTracker = 0;
    } else if (++this.growthTracker >= this.growthInterval) {
      this.scale *= this.growthFactor;
      this.growthTracker = 0;
    }
    this.unscaled = false;
    this.foundInf = false;
  }

  stateDict(): GradScalerState {
    return {
      scale: this.scale,
      growth_factor: this.growthFactor,
      backoff_factor: this.backoffFactor,
      growth_interval: this.growthInterval,
      _growth_tracker: this.growthTracker,
    };
  }

  loadStateDict(state: GradScalerState): void {
    if (typeof state?.scale !== "number" || typeof state._growth_tracker !== "number") {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_STATE",
        "GradScaler.loadStateDict: expected {scale, _growth_tracker}",
      );
    }
    this.scale = state.scale;
    this.growthTracker = state._growth_tracker;
  }
}
