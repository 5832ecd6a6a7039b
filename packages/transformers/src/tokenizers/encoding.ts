/** Truncation and padding of encodings, with the Rust `tokenizers` semantics the Python fast tokenizers use. */
import { ErrorCodes, fail } from "../errors.ts";
import type { RawEncoding } from "./pipeline/post-processors.ts";

export type TruncationStrategy = "longest_first" | "only_first" | "only_second";
export type Side = "left" | "right";

/** Keep tokens [start, stop) of an encoding. */
function slice(e: RawEncoding, start: number, stop: number): RawEncoding {
  return {
    ids: e.ids.slice(start, stop),
    typeIds: e.typeIds.slice(start, stop),
    specialMask: e.specialMask.slice(start, stop),
    offsets: e.offsets ? e.offsets.slice(2 * start, 2 * stop) : null,
    sequenceIds: e.sequenceIds.slice(start, stop),
    overflowing: [],
  };
}

/**
 * Truncate one encoding to `maxLen` tokens in place; the cut-off windows (each `maxLen` long,
 * overlapping by `stride`) go to `overflowing`.
 */
export function truncateEncoding(e: RawEncoding, maxLen: number, stride: number, side: Side): void {
  const n = e.ids.length;
  if (maxLen >= n) return;
  if (maxLen === 0) {
    const all = slice(e, 0, n);
    Object.assign(e, slice(e, 0, 0));
    e.overflowing = [all];
    return;
  }
  if (stride >= maxLen) {
    throw fail(
      ErrorCodes.TOKENIZER_BAD_ARGUMENT,
      `truncation: 'stride' (${stride}) must be smaller than the room left for tokens (${maxLen})`,
    );
  }
  const step = maxLen - stride;
  const parts: Array<[number, number]> = [];
  if (side === "right") {
    for (let start = 0; start < n; start += step) {
      const stop = Math.min(start + maxLen, n);
      parts.push([start, stop]);
      if (stop === n) break;
    }
  } else {
    for (let last = n - 1; last >= 0; last -= step) {
      const stop = last + 1;
      const start = stop < maxLen ? 0 : stop - maxLen;
      if (start < stop) parts.push([start, stop]);
      if (start === 0) break;
    }
  }
  const pieces = parts.map(([s, t]) => slice(e, s, t));
  Object.assign(e, pieces[0]);
  e.overflowing = pieces.slice(1);
}

/** Truncate a sequence (and its pair) so that together they hold at most `maxLen` tokens. */
export function truncatePair(
  a: RawEncoding,
  b: RawEncoding | null,
  maxLen: number,
  strategy: TruncationStrategy,
  stride: number,
  side: Side,
): void {
  if (!b) {
    if (strategy === "only_second" && a.ids.length > maxLen) {
      throw fail(
        ErrorCodes.TOKENIZER_BAD_ARGUMENT,
        "truncation 'only_second': there is no second sequence (pass textPair) to truncate",
      );
    }
    truncateEncoding(a, maxLen, stride, side);
    return;
  }
  const total = a.ids.length + b.ids.length;
  if (total <= maxLen) return;
  if (strategy === "longest_first") {
    let n1 = a.ids.length;
    let n2 = b.ids.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > maxLen ? n1 : Math.max(n1, maxLen - n1);
    if (n1 + n2 > maxLen) {
      n1 = Math.floor(maxLen / 2);
      n2 = n1 + (maxLen % 2);
    }
    if (swap) [n1, n2] = [n2, n1];
    truncateEncoding(a, n1, stride, side);
    truncateEncoding(b, n2, stride, side);
    return;
  }
  const target = strategy === "only_first" ? a : b;
  const toRemove = total - maxLen;
  if (target.ids.length <= toRemove) {
    throw fail(
      ErrorCodes.TOKENIZER_BAD_ARGUMENT,
      `truncation '${strategy}': the ${strategy === "only_first" ? "first" : "second"} sequence has ${target.ids.length} tokens, ` +
        `fewer than the ${toRemove} that must go to reach max_length ${maxLen}; use 'longest_first'`,
    );
  }
  truncateEncoding(target, target.ids.length - toRemove, stride, side);
}

/** A row of model inputs after padding. */
export interface PaddedRow {
  ids: number[];
  typeIds: number[];
  attentionMask: number[];
  specialMask: number[];
  offsets: number[] | null;
  sequenceIds: number[];
}

/** Pad a row to `target` tokens. */
export function padRow(e: RawEncoding, target: number, padId: number, padTypeId: number, side: Side): PaddedRow {
  const n = e.ids.length;
  const k = Math.max(0, target - n);
  const fill = <T>(v: T): T[] => new Array<T>(k).fill(v);
  const mask = new Array<number>(n).fill(1);
  const join = <T>(pad: T[], xs: T[]): T[] => (side === "left" ? pad.concat(xs) : xs.concat(pad));
  return {
    ids: join(fill(padId), e.ids),
    typeIds: join(fill(padTypeId), e.typeIds),
    attentionMask: join(fill(0), mask),
    specialMask: join(fill(1), e.specialMask),
    offsets: e.offsets ? join(fill(0).concat(fill(0)), e.offsets) : null,
    sequenceIds: join(fill(-1), e.sequenceIds),
  };
}
