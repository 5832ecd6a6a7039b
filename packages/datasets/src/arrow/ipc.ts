/**
 * Arrow IPC files on disk. Cache files are written in the IPC *stream* format, as Python's
 * `datasets` writes them, through a temp file renamed into place on success (no half-written file
 * survives an error). Reading is either mapped (random access; pages fault in on touch) or
 * sequential through a small read buffer (full scans whose resident memory stays bounded).
 */
import { closeSync, fsyncSync, openSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { mapFile } from "@hearth/tensor/native";
import {
  type Data,
  Message,
  makeData,
  RecordBatch,
  RecordBatchReader,
  RecordBatchStreamWriter,
  type Schema,
  Struct,
  Table,
  tableFromIPC,
} from "apache-arrow";
import { fail } from "../errors.ts";

const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** A record batch of `length` rows over `schema` from per-column Arrow data. */
export function makeBatch(schema: Schema, children: Data[], length: number): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Bytes of one message-stream encoding of the batch, without the leading schema or trailing EOS. */
function encodeBatchBody(batch: RecordBatch): Uint8Array {
  const bytes = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Encapsulated message: 0xFFFFFFFF continuation, int32 metadata length, metadata, (no body for a schema).
  const schemaLength = 8 + view.getInt32(4, true);
  return bytes.subarray(schemaLength, bytes.byteLength - EOS.byteLength);
}

function encodeSchema(schema: Schema): Uint8Array {
  const bytes = RecordBatchStreamWriter.writeAll(new Table(schema)).toUint8Array(true);
  return bytes.subarray(0, bytes.byteLength - EOS.byteLength);
}

/**
 * Writes record batches to `path` as an Arrow stream, atomically: the data goes to a temp file
 * beside it, renamed over `path` by {@link finish}; {@link abort} (or an error) removes it.
 */
export class ArrowStreamFileWriter {
  readonly path: string;
  readonly schema: Schema;
  private readonly tmp: string;
  private fd: number | null;
  private rows = 0;
  private bytes = 0;

  constructor(path: string, schema: Schema) {
    this.path = path;
    this.schema = schema;
    this.tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    this.fd = openSync(this.tmp, "w");
    this.put(encodeSchema(schema));
  }

  private put(bytes: Uint8Array): void {
    if (this.fd === null) throw fail("HEARTH_DATASETS_BAD_ARGUMENT", `ArrowStreamFileWriter: '${this.path}' is closed`);
    let off = 0;
    while (off < bytes.byteLength) off += writeSync(this.fd, bytes, off, bytes.byteLength - off);
    this.bytes += bytes.byteLength;
  }

  /** Appends a batch; its schema must have the writer's fields. */
  write(batch: RecordBatch): void {
    if (batch.numRows === 0) return;
    const b = batch.schema === this.schema ? batch : new RecordBatch(this.schema, batch.data);
    this.put(encodeBatchBody(b));
    this.rows += batch.numRows;
  }

  /** Appends a batch built from per-column data. */
  writeData(children: Data[], length: number): void {
    this.write(makeBatch(this.schema, children, length));
  }

  /** Rows written so far. */
  get numRows(): number {
    return this.rows;
  }

  /** Writes the end-of-stream marker, flushes, and renames the temp file into place. */
  finish(): { numRows: number; numBytes: number } {
    this.put(EOS);
    const fd = this.fd;
    if (fd === null) throw fail("HEARTH_DATASETS_BAD_ARGUMENT", `ArrowStreamFileWriter: '${this.path}' is closed`);
    fsyncSync(fd);
    closeSync(fd);
    this.fd = null;
    renameSync(this.tmp, this.path);
    return { numRows: this.rows, numBytes: this.bytes };
  }

  /** Drops the temp file; `path` is left as it was. Safe to call twice. */
  abort(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // Already gone.
    }
  }
}

/** Runs `fill(writer)` and finishes the file, or aborts it (no partial file) if `fill` throws. */
export async function writeArrowFile(
  path: string,
  schema: Schema,
  fill: (writer: ArrowStreamFileWriter) => void | Promise<void>,
): Promise<{ numRows: number; numBytes: number }> {
  const writer = new ArrowStreamFileWriter(path, schema);
  try {
    await fill(writer);
    return writer.finish();
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** Maps an Arrow IPC file (stream or file format) and returns its table without reading the data. */
export function mapArrowFile(path: string): Table {
  let buffer: ArrayBuffer;
  try {
    buffer = mapFile(path);
  } catch (error) {
    throw fail(
      "HEARTH_DATASETS_FILE_NOT_FOUND",
      `mapArrowFile: cannot map '${path}': ${(error as Error).message}`,
      error,
    );
  }
  try {
    return tableFromIPC(new Uint8Array(buffer));
  } catch (error) {
    throw fail(
      "HEARTH_DATASETS_ARROW_CORRUPT",
      `mapArrowFile: '${path}' is not a readable Arrow IPC file: ${(error as Error).message}`,
      error,
    );
  }
}

/**
 * The file's IPC messages, one whole message per chunk, so the reader never holds a message split
 * across chunks. With `recycle`, two buffers alternate: a message's bytes stay valid until the
 * message after next is read (the caller copies what it keeps before asking for more).
 */
function* messageChunks(path: string, recycle: boolean): Generator<Uint8Array> {
  const fd = openSync(path, "r");
  const ring = [new Uint8Array(1 << 20), new Uint8Array(1 << 20)];
  let k = 0;
  let pos = 0;
  const readAt = (buf: Uint8Array, at: number, len: number, from: number): number => {
    let done = 0;
    while (done < len) {
      const n = readSync(fd, buf, at + done, len - done, from + done);
      if (n <= 0) break;
      done += n;
    }
    return done;
  };
  try {
    const head = new Uint8Array(8);
    for (;;) {
      const got = readAt(head, 0, 8, pos);
      if (got < 4) return;
      const view = new DataView(head.buffer);
      // Encapsulated message: 0xFFFFFFFF, int32 metadata length (older streams omit the marker).
      const marked = view.getUint32(0, true) === 0xffffffff;
      const prefix = marked ? 8 : 4;
      const metaLength = marked ? view.getInt32(4, true) : view.getInt32(0, true);
      if (metaLength <= 0 || (marked && got < 8)) {
        yield head.slice(0, got);
        return;
      }
      const meta = new Uint8Array(metaLength);
      if (readAt(meta, 0, metaLength, pos + prefix) < metaLength)
        throw new Error(`truncated message metadata at byte ${pos}`);
      const bodyLength = Number(Message.decode(meta).bodyLength);
      const total = prefix + metaLength + bodyLength;
      let buf: Uint8Array;
      if (recycle) {
        const slot = k++ % 2;
        if (ring[slot].length < total) ring[slot] = new Uint8Array(Math.ceil(total * 1.25));
        buf = ring[slot];
      } else buf = new Uint8Array(total);
      buf.set(head.subarray(0, prefix), 0);
      buf.set(meta, prefix);
      if (readAt(buf, prefix + metaLength, bodyLength, pos + prefix + metaLength) < bodyLength) {
        throw new Error(`truncated message body at byte ${pos}`);
      }
      yield buf.subarray(0, total);
      pos += total;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an Arrow IPC stream file batch by batch through a bounded buffer, so a full scan of a
 * file larger than RAM keeps resident memory small. Falls back to mapping for the file format.
 * With `transient`, read buffers are recycled: each batch is valid only until the next one is
 * read, so the caller must copy what it keeps.
 */
export function* readArrowBatches(path: string, transient = false): Generator<RecordBatch> {
  const head = new Uint8Array(6);
  const fd = openSync(path, "r");
  readSync(fd, head, 0, 6, 0);
  closeSync(fd);
  const isFileFormat = String.fromCharCode(...head) === "ARROW1";
  if (isFileFormat) {
    yield* mapArrowFile(path).batches;
    return;
  }
  try {
    const reader = RecordBatchReader.from(messageChunks(path, transient));
    for (const batch of reader) yield batch;
  } catch (error) {
    throw fail(
      "HEARTH_DATASETS_ARROW_CORRUPT",
      `readArrowBatches: '${path}' is not a readable Arrow stream: ${(error as Error).message}`,
      error,
    );
  }
}

/** Size of a file in bytes. */
export function fileSize(path: string): number {
  return statSync(path).size;
}
