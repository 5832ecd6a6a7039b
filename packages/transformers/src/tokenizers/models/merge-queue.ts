/**
 * The merge loop shared by BPE and SentencePiece-BPE: symbols in a linked list, candidate pairs in
 * a binary heap ordered by (priority, left position), stale entries skipped on pop. O(n log n) per
 * word, so long inputs (SentencePiece encodes whole sentences) stay fast.
 */

/** Priority of merging symbol `left` with symbol `right` (lower merges first), or -Infinity/NaN → no merge. */
export type PairPriority = (left: number, right: number) => number;

export class MergeQueue {
  private prio: number[] = [];
  private left: number[] = [];
  private verL: number[] = [];
  private verR: number[] = [];
  private size = 0;

  reset(): void {
    this.size = 0;
  }

  push(p: number, l: number, vl: number, vr: number): void {
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(p, l, this.prio[parent], this.left[parent])) {
        this.prio[i] = this.prio[parent];
        this.left[i] = this.left[parent];
        this.verL[i] = this.verL[parent];
        this.verR[i] = this.verR[parent];
        i = parent;
      } else break;
    }
    this.prio[i] = p;
    this.left[i] = l;
    this.verL[i] = vl;
    this.verR[i] = vr;
  }

  private less(p1: number, l1: number, p2: number, l2: number): boolean {
    return p1 < p2 || (p1 === p2 && l1 < l2);
  }

  /** Pop the best entry into `out` ([prio, left, verL, verR]); false when empty. */
  pop(out: number[]): boolean {
    if (this.size === 0) return false;
    out[0] = this.prio[0];
    out[1] = this.left[0];
    out[2] = this.verL[0];
    out[3] = this.verR[0];
    const n = --this.size;
    if (n === 0) return true;
    const p = this.prio[n];
    const l = this.left[n];
    const vl = this.verL[n];
    const vr = this.verR[n];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(this.prio[c + 1], this.left[c + 1], this.prio[c], this.left[c])) c++;
      if (!this.less(this.prio[c], this.left[c], p, l)) break;
      this.prio[i] = this.prio[c];
      this.left[i] = this.left[c];
      this.verL[i] = this.verL[c];
      this.verR[i] = this.verR[c];
      i = c;
    }
    this.prio[i] = p;
    this.left[i] = l;
    this.verL[i] = vl;
    this.verR[i] = vr;
    return true;
  }
}

/**
 * Run merges over `n` symbols. `priority(l, r)` rates the pair of live symbols l and r (by index);
 * `merge(l, r)` folds r into l. Returns `next` links: walk from 0 to read the surviving symbols.
 */
export function runMerges(
  n: number,
  priority: PairPriority,
  merge: (l: number, r: number) => void,
  queue = new MergeQueue(),
): Int32Array {
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const ver = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  queue.reset();
  const consider = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const p = priority(l, r);
    if (p === Number.NEGATIVE_INFINITY || Number.isNaN(p)) return;
    queue.push(p, l, ver[l], ver[r]);
  };
  for (let i = 0; i + 1 < n; i++) consider(i, i + 1);
  const top = [0, 0, 0, 0];
  while (queue.pop(top)) {
    const l = top[1];
    if (ver[l] !== top[2] || ver[l] < 0) continue;
    const r = next[l];
    if (r < 0 || ver[r] !== top[3]) continue;
    merge(l, r);
    ver[l]++;
    ver[r] = -1;
    const rn = next[r];
    next[l] = rn;
    if (rn >= 0) prev[rn] = l;
    consider(prev[l], l);
    consider(l, next[l]);
  }
  return next;
}
