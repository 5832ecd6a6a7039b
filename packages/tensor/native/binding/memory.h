#pragma once
#include <napi.h>

namespace hearth {
// Registers the environment's teardown, which frees the blocks its buffers still hold.
void InitMemory(Napi::Env env);
// allocate(nbytes): a zero-filled, 64-byte-aligned external ArrayBuffer whose size is reported
// to V8 so the garbage collector feels native memory pressure.
Napi::Value Allocate(const Napi::CallbackInfo& info);
// free(buffer): releases a buffer from allocate() now and detaches it (its views read as
// empty); returns false, doing nothing, for any other buffer.
Napi::Value Free(const Napi::CallbackInfo& info);
// mapFile(path): the whole file mapped private copy-on-write as an external ArrayBuffer.
// Writes through the buffer change only this process's pages, never the file.
Napi::Value MapFile(const Napi::CallbackInfo& info);
// mapFdRange(fd, offset, length): bytes [offset, offset + length) of an open file, mapped private
// copy-on-write (at most 4 GiB: Node 20's limit for external buffers). The descriptor may be
// closed afterwards; the mapping lives until the buffer is collected.
Napi::Value MapFdRange(const Napi::CallbackInfo& info);
// mapShared(path, nbytes): the file at `path` (created mode 0600 if missing, grown to `nbytes`
// if shorter, never shrunk) mapped MAP_SHARED read-write as an external ArrayBuffer of its
// whole length. Every process mapping the same file sees every write at once: the memory of the
// data-parallel collectives (a file in /dev/shm is shared RAM). Unmapped when collected.
Napi::Value MapShared(const Napi::CallbackInfo& info);
// residentBytes(): this process's resident set size from /proc/self/statm (0 where unknown).
Napi::Value ResidentBytes(const Napi::CallbackInfo& info);
// allocatorStats(): the capacity (bytes rounded up to the cache's granule) of allocate()'s blocks
// held by JavaScript now, of those kept in the reuse cache, the most ever held at once, and
// the number of cached blocks: what the allocator itself accounts for in the resident set.
Napi::Value AllocatorStats(const Napi::CallbackInfo& info);
// mallocStats(): the C heap as glibc's mallinfo2 sees it, all arenas together: bytes the arenas
// hold (arenaBytes, from sbrk/heaps), of them in use and free (free chunks are resident until
// trimmed: fragmentation), and bytes in malloc's own mmapped chunks; null on other C libraries.
Napi::Value MallocStats(const Napi::CallbackInfo& info);
}  // namespace hearth
