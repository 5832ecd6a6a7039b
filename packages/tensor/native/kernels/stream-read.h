// A memory-bandwidth probe for benchmarks: reads a buffer once, front to back, on the thread
// pool, and does nothing else, so bytes / time is the read bandwidth a memory-bound kernel
// (a decoding step's matrix-vector products) can hope for on this machine at this moment.
//   data   bytes, any alignment (the body is read in 64-byte lines, the ends byte by byte)
//   result a checksum of the bytes (wrapping sum of their 64-bit words), returned so the
//          compiler cannot drop the reads
#pragma once
#include <cstdint>

namespace hearth {

uint64_t stream_read(const void* data, int64_t bytes);

}  // namespace hearth
