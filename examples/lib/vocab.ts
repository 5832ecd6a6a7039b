/**
 * A trimmed vocabulary over GPT-2's token ids: the `size − 1` most frequent ids of a corpus,
 * plus id 0 for everything else. It keeps the GPT-2 tokenizer (text → GPT-2 ids → local ids
 * and back) while the embedding and output layers stay small enough to train on a CPU in
 * minutes instead of paying for 50,257 output logits per position.
 */
export class TrimmedVocab {
  readonly toLocal = new Map<number, number>();
  readonly toGpt2: number[] = [-1];

  constructor(corpusIds: Iterable<number>, size: number) {
    const counts = new Map<number, number>();
    for (const id of corpusIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, size - 1);
    for (const [id] of top) {
      this.toLocal.set(id, this.toGpt2.length);
      this.toGpt2.push(id);
    }
  }

  get size(): number {
    return this.toGpt2.length;
  }

  encode(gpt2Ids: number[]): number[] {
    return gpt2Ids.map((id) => this.toLocal.get(id) ?? 0);
  }

  /** GPT-2 ids of local ids, the "other" id left out. */
  decode(localIds: number[]): number[] {
    return localIds.filter((id) => id > 0).map((id) => this.toGpt2[id] as number);
  }
}
