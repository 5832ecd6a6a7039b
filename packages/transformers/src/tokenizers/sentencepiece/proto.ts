/**
 * A reader (and writer for what we change) of SentencePiece's `ModelProto` (sentencepiece_model.proto),
 * the protobuf inside `tokenizer.model`. Only the fields tokenisation needs are decoded; the raw
 * bytes are kept so saving writes the file back unchanged.
 */

export enum PieceType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface SpPiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface SpModelProto {
  pieces: SpPiece[];
  /** 1 unigram, 2 BPE, 3 word, 4 char. */
  modelType: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  normalizer: SpNormalizerSpec;
}

export interface SpNormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array | null;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}

  varint(): number {
    // Returns the low 53 bits (enough for tags, lengths, enums, bools, and int32 read as `| 0`).
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++];
      if (i < 8) result += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  int32(): number {
    // Negative int32s are written as 10-byte two's-complement varints; the low 32 bits suffice.
    let lo = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error(`truncated varint at byte ${this.pos}`);
      const b = this.buf[this.pos++];
      if (i < 5) lo |= (b & 0x7f) << (7 * i);
      if ((b & 0x80) === 0) return lo | 0;
    }
    throw new Error(`varint longer than 10 bytes at byte ${this.pos}`);
  }

  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.end) throw new Error(`length ${n} at byte ${this.pos} runs past the end`);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new Error(`truncated float at byte ${this.pos}`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const n = this.varint();
      this.pos += n;
    } else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire} at byte ${this.pos}`);
    if (this.pos > this.end) throw new Error("field runs past the end of the message");
  }

  /** Iterate (field, wireType) pairs of the current message. */
  *fields(): Generator<[number, number]> {
    while (this.pos < this.end) {
      const tag = this.varint();
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (field === 0) throw new Error(`field number 0 at byte ${this.pos}`);
      yield [field, wire];
    }
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function readPiece(buf: Uint8Array): SpPiece {
  const r = new Reader(buf);
  const p: SpPiece = { piece: "", score: 0, type: PieceType.Normal };
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) p.piece = utf8.decode(r.bytes());
    else if (f === 2 && w === 5) p.score = r.float();
    else if (f === 3 && w === 0) p.type = r.varint() as PieceType;
    else r.skip(w);
  }
  return p;
}

/** Parse `tokenizer.model` bytes. Throws a plain Error with the byte position on malformed input. */
export function parseModelProto(buf: Uint8Array): SpModelProto {
  const m: SpModelProto = {
    pieces: [],
    modelType: 1,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    normalizer: {
      name: "nmt_nfkc",
      precompiledCharsmap: null,
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
    },
  };
  const r = new Reader(buf);
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) m.pieces.push(readPiece(r.bytes()));
    else if (f === 2 && w === 2) {
      const t = new Reader(r.bytes());
      for (const [tf, tw] of t.fields()) {
        if (tf === 3 && tw === 0) m.modelType = t.varint();
        else if (tf === 35 && tw === 0) m.byteFallback = t.varint() !== 0;
        else if (tf === 24 && tw === 0) m.treatWhitespaceAsSuffix = t.varint() !== 0;
        else if (tf === 40 && tw === 0) m.unkId = t.int32();
        else if (tf === 41 && tw === 0) m.bosId = t.int32();
        else if (tf === 42 && tw === 0) m.eosId = t.int32();
        else if (tf === 43 && tw === 0) m.padId = t.int32();
        else t.skip(tw);
      }
    } else if (f === 3 && w === 2) {
      const n = new Reader(r.bytes());
      for (const [nf, nw] of n.fields()) {
        if (nf === 1 && nw === 2) m.normalizer.name = utf8.decode(n.bytes());
        else if (nf === 2 && nw === 2) m.normalizer.precompiledCharsmap = n.bytes().slice();
        else if (nf === 3 && nw === 0) m.normalizer.addDummyPrefix = n.varint() !== 0;
        else if (nf === 4 && nw === 0) m.normalizer.removeExtraWhitespaces = n.varint() !== 0;
        else if (nf === 5 && nw === 0) m.normalizer.escapeWhitespaces = n.varint() !== 0;
        else n.skip(nw);
      }
    } else r.skip(w);
  }
  if (m.pieces.length === 0) throw new Error("the model has no pieces (field 1 of ModelProto)");
  return m;
}
