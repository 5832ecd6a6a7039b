/**
 * Beam search bookkeeping, as Python's `BeamSearchScorer` and `BeamHypotheses` (transformers
 * 4.40): per batch entry, keep the `numBeams` best finished hypotheses scored by
 * `sumLogprobs / generatedLength ** lengthPenalty`, and decide when an entry is done.
 */

/** A finished hypothesis: its tokens (prompt included, ending with EOS unless it ran to the length limit). */
export interface Hypothesis {
  score: number;
  tokens: number[];
}

/** The best finished hypotheses of one batch entry. */
export class BeamHypotheses {
  readonly beams: Hypothesis[] = [];
  worstScore = 1e9;

  constructor(
    readonly numBeams: number,
    readonly lengthPenalty: number,
    readonly earlyStopping: boolean | "never",
    readonly maxLength: number,
  ) {}

  get length(): number {
    return this.beams.length;
  }

  /** Adds a hypothesis whose summed log-probability is `sumLogprobs` and which generated `generatedLen` tokens. */
  add(tokens: number[], sumLogprobs: number, generatedLen: number): void {
    const score = sumLogprobs / generatedLen ** this.lengthPenalty;
    if (this.beams.length < this.numBeams || score > this.worstScore) {
      this.beams.push({ score, tokens });
      if (this.beams.length > this.numBeams) {
        let worst = 0;
        for (let i = 1; i < this.beams.length; i++) {
          if ((this.beams[i] as Hypothesis).score < (this.beams[worst] as Hypothesis).score) worst = i;
        }
        this.beams.splice(worst, 1);
        this.worstScore = Math.min(...this.beams.map((b) => b.score));
      } else {
        this.worstScore = Math.min(score, this.worstScore);
      }
    }
  }

  /** Whether no running beam can still beat the worst kept hypothesis. */
  isDone(bestSumLogprobs: number, curLen: number, promptLen: number): boolean {
    if (this.beams.length < this.numBeams) return false;
    if (this.earlyStopping === true) return true;
    let highest: number;
    if (this.earlyStopping === false || this.lengthPenalty <= 0) {
      highest = bestSumLogprobs / (curLen - promptLen) ** this.lengthPenalty;
    } else {
      highest = bestSumLogprobs / (this.maxLength - promptLen) ** this.lengthPenalty;
    }
    return this.worstScore >= highest;
  }
}

/** One step's choice for the running beams of the whole batch. */
export interface BeamStep {
  /** Per running beam (`batch * numBeams`): its new cumulative score. */
  scores: number[];
  /** Per running beam: the token appended. */
  tokens: number[];
  /** Per running beam: which previous beam (global index) it extends. */
  beamIndices: number[];
}

/** Python's `BeamSearchScorer`. */
export class BeamSearchScorer {
  readonly hyps: BeamHypotheses[];
  readonly done: boolean[];

  constructor(
    readonly batchSize: number,
    readonly numBeams: number,
    lengthPenalty: number,
    earlyStopping: boolean | "never",
    maxLength: number,
    readonly numReturnSequences: number,
  ) {
    this.hyps = Array.from(
      { length: batchSize },
      () => new BeamHypotheses(numBeams, lengthPenalty, earlyStopping, maxLength),
    );
    this.done = new Array<boolean>(batchSize).fill(false);
  }

  get isDone(): boolean {
    return this.done.every(Boolean);
  }

  /**
   * Takes the top `2 * numBeams` candidates per batch entry (already sorted by score,
   * descending) and returns the next running beams; candidates ending in EOS become hypotheses.
   *
   * @param sequences the running beams' tokens (`batch * numBeams` rows, prompt included)
   * @param candScores per batch entry, `2 * numBeams` cumulative scores
   * @param candTokens per batch entry, the token of each candidate
   * @param candBeams per batch entry, the beam (0..numBeams-1) each candidate extends
   */
  process(
    sequences: readonly (readonly number[])[],
    candScores: readonly (readonly number[])[],
    candTokens: readonly (readonly number[])[],
    candBeams: readonly (readonly number[])[],
    eos: readonly number[],
    padTokenId: number,
    promptLen: number,
  ): BeamStep {
    const K = this.numBeams;
    const step: BeamStep = { scores: [], tokens: [], beamIndices: [] };
    const curLen = (sequences[0] as readonly number[]).length + 1;
    for (let b = 0; b < this.batchSize; b++) {
      const hyp = this.hyps[b] as BeamHypotheses;
      if (this.done[b]) {
        for (let k = 0; k < K; k++) {
          step.scores.push(0);
          step.tokens.push(padTokenId);
          step.beamIndices.push(b * K);
        }
        continue;
      }
      let beamIdx = 0;
      const scores = candScores[b] as readonly number[];
      const tokens = candTokens[b] as readonly number[];
      const beams = candBeams[b] as readonly number[];
      for (let rank = 0; rank < scores.length; rank++) {
        const token = tokens[rank] as number;
        const score = scores[rank] as number;
        const global = b * K + (beams[rank] as number);
        if (eos.includes(token)) {
          // Python keeps an EOS candidate only when it ranks among the top numBeams.
          if (rank >= K) continue;
          hyp.add([...(sequences[global] as readonly number[]), token], score, curLen - promptLen);
        } else {
          step.scores.push(score);
          step.tokens.push(token);
          step.beamIndices.push(global);
          beamIdx++;
        }
        if (beamIdx === K) break;
      }
      const best = Math.max(...scores);
      this.done[b] = hyp.isDone(best, curLen, promptLen);
    }
    return step;
  }

  /**
   * Adds the running beams of unfinished entries as hypotheses and returns, per batch entry,
   * the best `numReturnSequences` in score order.
   */
  finalize(
    sequences: readonly (readonly number[])[],
    beamScores: readonly number[],
    promptLen: number,
  ): Hypothesis[][] {
    const K = this.numBeams;
    for (let b = 0; b < this.batchSize; b++) {
      if (this.done[b]) continue;
      for (let k = 0; k < K; k++) {
        const seq = sequences[b * K + k] as readonly number[];
        (this.hyps[b] as BeamHypotheses).add([...seq], beamScores[b * K + k] as number, seq.length - promptLen);
      }
    }
    return this.hyps.map((h) => [...h.beams].sort((x, y) => y.score - x.score).slice(0, this.numReturnSequences));
  }
}
