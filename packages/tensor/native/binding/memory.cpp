// Memory handed to JavaScript: aligned heap allocations, private file mappings and shared
// file mappings, all as external ArrayBuffers that free themselves (and un-report their size)
// when collected.
#include "memory.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include <v8.h>

#include <memory>

#include "check.h"

namespace hearth {
namespace {

constexpr size_t kAlignment = 64;

// The record of one live buffer, deleted as soon as the block goes back (Free() or collection).
// Its weak handle is V8's own rather than an N-API finalizer: Node runs N-API finalizers from
// the event loop after the collection, so a training loop that never yields kept every
// buffer's record (and N-API's) until it ended, ~175 bytes of malloc per allocation, explicitly
// freed ones included (a 12-layer GPT-2 step: tens of KiB a step, without bound).
struct Allocation {
  size_t bytes;     // the buffer's length as JavaScript sees it
  size_t capacity;  // usable bytes from `data` (bytes rounded up to a size class)
  void* base;       // what calloc returned (data is base rounded up to kAlignment), or the mapping
  void* data;       // the buffer's first byte as JavaScript sees it
  bool mapped;      // base is a huge-page mapping of `capacity` bytes (see map_huge), not calloc's
  v8::Isolate* isolate;
  v8::Global<v8::ArrayBuffer> buffer;  // weak: a collected buffer comes back through OnCollected
};

// Live allocations by data pointer, so Free() can recognise its own buffers.
std::mutex g_mu;
std::unordered_map<void*, Allocation*> g_live;

// Released blocks kept for reuse, by capacity. A training step allocates the same sizes every
// step; reusing them costs a memset instead of fresh page faults (which dominate on VMs).
// V8 is told about a block's capacity when it is first allocated and again when it is finally
// freed, not when it moves between JavaScript and the cache: cached blocks are still this
// process's memory, and re-reporting every recycled buffer made V8 run a full mark-compact
// every few allocations (about 20 per GPT-2 training step) for a 12 MB JavaScript heap.
// For the same reason the ArrayBuffers themselves are made with V8's empty deleter (see
// UncountedArrayBuffer): V8 counts every other external ArrayBuffer's length as external memory
// while it lives, so a step holding 1.5 GB of activations at once looked like 1.5 GB of new
// memory and ran a collection per 64 MB of it, about 180 per GPT-2-small training step.
struct Block {
  void* base;
  void* data;
  bool mapped;
};
std::unordered_multimap<size_t, Block> g_cache;
size_t g_cached_bytes = 0;
// The cache keeps up to max(1 GiB, the most memory ever live at once): a step that needs that
// much at its peak gets it all back from the cache the next step, without holding more than
// the process already needed (a GPT-2-small training step turns over several GiB per step;
// a fixed 1 GiB cache sent the rest back to fresh, page-faulting allocations every step).
constexpr size_t kCacheLimit = size_t{1} << 30;
size_t g_live_bytes = 0;
size_t g_peak_live_bytes = 0;
constexpr size_t kCacheGranule = size_t{64} << 10;

size_t capacity_for(size_t bytes) { return (bytes + kCacheGranule - 1) / kCacheGranule * kCacheGranule; }

// Blocks of at least this many bytes are mapped on their own, 2 MiB-aligned, and marked for
// transparent huge pages (which this kernel may give only to memory that asks, THP "madvise"
// mode): decoding streams every weight matrix once per token, and 4 KiB pages cost a page walk
// every 4 KiB of it (a GPT-2-small bf16 weight pass streamed a few percent faster from huge
// pages, single thread, CPU time). The mapping ends at the block's capacity, so the last partial
// 2 MiB stays in small pages and no block holds more memory than it asked for.
constexpr size_t kHugeBytes = size_t{2} << 20;

void* map_huge(size_t capacity) {
  const size_t span = capacity + kHugeBytes;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t data = (start + kHugeBytes - 1) / kHugeBytes * kHugeBytes;
  if (data > start) munmap(raw, data - start);
  const uintptr_t end = data + capacity;  // capacity is a multiple of the page size (kCacheGranule)
  if (start + span > end) munmap(reinterpret_cast<void*>(end), start + span - end);
  // Advice only: without it (THP disabled) the block is ordinary zeroed memory.
  madvise(reinterpret_cast<void*>(data), capacity, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(data);
}

void free_block(void* base, size_t capacity, bool mapped) {
  if (mapped) {
    munmap(base, capacity);
  } else {
    std::free(base);
  }
}

// Finalizers run where no JavaScript exception may be thrown (during garbage collection or at
// teardown): the adjustment is made without node-addon-api's throwing wrapper, and a refusal
// is ignored (it only skews V8's heuristic).
void unreport_external(Napi::Env env, size_t bytes) {
  int64_t ignored;
  napi_adjust_external_memory(env, -static_cast<int64_t>(bytes), &ignored);
}

// Capacity of blocks freed (not cached) where V8 may not be called (a weak callback), to be
// un-reported by the next call that has an environment (settle_external). Guarded by g_mu.
size_t g_unreported = 0;

// Caller holds g_mu. Forgets the record and keeps its block for reuse, or frees the block and
// leaves its capacity to be un-reported.
void release(Allocation* a) {
  g_live.erase(a->data);
  g_live_bytes -= a->capacity;
  if (g_cached_bytes + a->capacity <= (g_peak_live_bytes > kCacheLimit ? g_peak_live_bytes : kCacheLimit)) {
    g_cache.emplace(a->capacity, Block{a->base, a->data, a->mapped});
    g_cached_bytes += a->capacity;
  } else {
    free_block(a->base, a->capacity, a->mapped);
    g_unreported += a->capacity;
  }
}

void settle_external(Napi::Env env) {
  size_t bytes;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    bytes = g_unreported;
    g_unreported = 0;
  }
  if (bytes > 0) unreport_external(env, bytes);
}

// A buffer collected without free(): runs inside the collection (V8's first pass, where only
// the handle's Reset may call V8), so the block is back in the cache before the loop goes on.
void OnCollected(const v8::WeakCallbackInfo<Allocation>& info) {
  Allocation* a = info.GetParameter();
  a->buffer.Reset();
  {
    std::lock_guard<std::mutex> lock(g_mu);
    release(a);
  }
  delete a;
}

// At an environment's teardown (a worker thread's end, the process's exit) V8 runs no weak
// callbacks: the blocks still held by its buffers are freed here (nothing runs JavaScript
// over them any more).
void ReleaseEnvironmentBlocks(void* arg) {
  v8::Isolate* isolate = static_cast<v8::Isolate*>(arg);
  std::lock_guard<std::mutex> lock(g_mu);
  for (auto it = g_live.begin(); it != g_live.end();) {
    Allocation* a = it->second;
    if (a->isolate != isolate) {
      ++it;
      continue;
    }
    it = g_live.erase(it);
    g_live_bytes -= a->capacity;
    a->buffer.Reset();
    free_block(a->base, a->capacity, a->mapped);
    delete a;
  }
}

// A JavaScript ArrayBuffer over `a`'s block that V8 does not count as external memory (a
// backing store with V8's empty deleter has no accounting length), weakly held by `a`. N-API
// cannot make one, so this goes through V8 directly: a napi_value is a v8::Local's slot in
// every Node release (v8impl::JsValueFromV8LocalValue).
Napi::ArrayBuffer UncountedArrayBuffer(Napi::Env env, Allocation* a) {
  std::unique_ptr<v8::BackingStore> store =
      v8::ArrayBuffer::NewBackingStore(a->data, a->bytes, v8::BackingStore::EmptyDeleter, nullptr);
  v8::Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(a->isolate, std::move(store));
  a->buffer.Reset(a->isolate, ab);
  a->buffer.SetWeak(a, OnCollected, v8::WeakCallbackType::kParameter);
  return Napi::ArrayBuffer(env, reinterpret_cast<napi_value>(*ab));
}

struct Mapping {
  size_t bytes;
};

void Unmap(Napi::Env env, void* data, Mapping* hint) {
  munmap(data, hint->bytes);
  unreport_external(env, hint->bytes);
  delete hint;
}

// A window whose JS view starts `offset` bytes into the mapping (mmap needs page-aligned offsets).
struct Window {
  void* base;
  size_t bytes;
};

void UnmapWindow(Napi::Env env, void*, Window* hint) {
  munmap(hint->base, hint->bytes);
  unreport_external(env, hint->bytes);
  delete hint;
}

// Node 20 wraps external ArrayBuffers in Buffers, which cannot exceed 2^32 bytes; a larger one
// aborts the process, so refuse it with an error instead.
constexpr size_t kMaxExternalBytes = size_t{1} << 32;

}  // namespace

void InitMemory(Napi::Env env) {
  napi_add_env_cleanup_hook(env, ReleaseEnvironmentBlocks, v8::Isolate::GetCurrent());
}

Napi::Value Allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 1, "allocate");
  HEARTH_CHECK_NUMBER(info, 0, "allocate", "nbytes");
  double requested = info[0].As<Napi::Number>().DoubleValue();
  HEARTH_CHECK(env, requested >= 0 && requested <= 9.0e15, "allocate",
               "argument 'nbytes' must be a non-negative byte count, got " + std::to_string(requested));
  size_t bytes = static_cast<size_t>(requested);
  // allocate(nbytes, false): a reused block keeps its old contents (the caller overwrites them).
  const bool zero = info.Length() < 2 || !info[1].IsBoolean() || info[1].As<Napi::Boolean>().Value();
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  const size_t capacity = capacity_for(bytes);
  void* base = nullptr;
  void* data = nullptr;
  bool mapped = false;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_cache.find(capacity);
    if (it != g_cache.end()) {
      base = it->second.base;
      data = it->second.data;
      mapped = it->second.mapped;
      g_cache.erase(it);
      g_cached_bytes -= capacity;
    }
  }
  const bool fresh = base == nullptr;
  if (!fresh) {
    if (zero) std::memset(data, 0, bytes);
  } else {
    // Fresh pages from the kernel are already zero (mmap, calloc), so large buffers skip a memset.
    if (capacity >= kHugeBytes) {
      base = map_huge(capacity);
      mapped = base != nullptr;
      data = base;
    }
    if (base == nullptr) {
      base = std::calloc(capacity + kAlignment, 1);
      if (base == nullptr) {
        throw Napi::Error::New(env, "allocate: out of memory allocating " + std::to_string(bytes) + " bytes");
      }
      data = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(base) + kAlignment - 1) / kAlignment * kAlignment);
    }
  }
  Allocation* a = new Allocation{bytes, capacity, base, data, mapped, v8::Isolate::GetCurrent(), {}};
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_live[data] = a;
    g_live_bytes += capacity;
    if (g_live_bytes > g_peak_live_bytes) g_peak_live_bytes = g_live_bytes;
  }
  if (fresh) Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(capacity));
  settle_external(env);
  return UncountedArrayBuffer(env, a);
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 1, "free");
  HEARTH_CHECK(env, info[0].IsArrayBuffer(), "free", "argument 'buffer' must be an ArrayBuffer");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  void* data = ab.Data();
  if (data == nullptr) return Napi::Boolean::New(env, false);
  {
    std::lock_guard<std::mutex> lock(g_mu);
    auto it = g_live.find(data);
    if (it == g_live.end()) return Napi::Boolean::New(env, false);  // not ours (or already freed)
    Allocation* a = it->second;
    a->buffer.Reset();  // no weak callback will come
    release(a);
    delete a;
  }
  settle_external(env);
  // Views of a detached buffer have length 0, so JavaScript can never touch the freed memory.
  ab.Detach();
  return Napi::Boolean::New(env, true);
}

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 1, "mapFile");
  HEARTH_CHECK_STRING(info, 0, "mapFile", "path");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw Napi::Error::New(env, "mapFile: cannot open '" + path + "': " + std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    throw Napi::Error::New(env, "mapFile: cannot stat '" + path + "': " + std::strerror(err));
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  if (bytes == 0) {
    close(fd);
    return Napi::ArrayBuffer::New(env, 0);
  }
  if (bytes > kMaxExternalBytes) {
    close(fd);
    throw Napi::RangeError::New(env, "mapFile: '" + path + "' has " + std::to_string(bytes) +
                                         " bytes; this Node.js maps at most 4 GiB at once (use mapFdRange)");
  }
  // PROT_WRITE with MAP_PRIVATE: a stray write copies the page instead of faulting, and can
  // never reach the file.
  void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int err = errno;
  close(fd);
  if (data == MAP_FAILED) {
    throw Napi::Error::New(env, "mapFile: cannot map '" + path + "': " + std::strerror(err));
  }
  // Report the mapping's size so the collector releases unreferenced mappings under pressure.
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
  return Napi::ArrayBuffer::New(env, data, bytes, Unmap, new Mapping{bytes});
}

Napi::Value MapFdRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 3, "mapFdRange");
  HEARTH_CHECK_NUMBER(info, 0, "mapFdRange", "fd");
  HEARTH_CHECK_NUMBER(info, 1, "mapFdRange", "offset");
  HEARTH_CHECK_NUMBER(info, 2, "mapFdRange", "length");
  double fdValue = info[0].As<Napi::Number>().DoubleValue();
  double offsetValue = info[1].As<Napi::Number>().DoubleValue();
  double lengthValue = info[2].As<Napi::Number>().DoubleValue();
  HEARTH_CHECK(env, fdValue >= 0 && fdValue < 2147483648.0, "mapFdRange", "argument 'fd' must be a file descriptor");
  HEARTH_CHECK(env, offsetValue >= 0 && offsetValue <= 9.0e15, "mapFdRange",
               "argument 'offset' must be a non-negative byte offset, got " + std::to_string(offsetValue));
  HEARTH_CHECK(env, lengthValue >= 0 && lengthValue <= static_cast<double>(kMaxExternalBytes), "mapFdRange",
               "argument 'length' must be between 0 and 2^32 bytes, got " + std::to_string(lengthValue));
  int fd = static_cast<int>(fdValue);
  size_t offset = static_cast<size_t>(offsetValue);
  size_t length = static_cast<size_t>(lengthValue);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    throw Napi::Error::New(env, std::string("mapFdRange: cannot stat descriptor: ") + std::strerror(errno));
  }
  size_t size = static_cast<size_t>(st.st_size);
  HEARTH_CHECK(env, offset <= size && length <= size - offset, "mapFdRange",
               "range [" + std::to_string(offset) + ", " + std::to_string(offset + length) +
                   ") is outside the file of " + std::to_string(size) + " bytes");
  if (length == 0) return Napi::ArrayBuffer::New(env, 0);
  size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t aligned = offset / page * page;
  size_t delta = offset - aligned;
  void* base = mmap(nullptr, length + delta, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, static_cast<off_t>(aligned));
  if (base == MAP_FAILED) {
    throw Napi::Error::New(env, std::string("mapFdRange: cannot map: ") + std::strerror(errno));
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(length + delta));
  return Napi::ArrayBuffer::New(env, static_cast<char*>(base) + delta, length, UnmapWindow,
                                new Window{base, length + delta});
}

// Unlike mapFile's private copy-on-write mappings, writes go to the file's pages and every
// process that maps the file sees them: the memory of the inter-process collectives.
Napi::Value MapShared(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 2, "mapShared");
  HEARTH_CHECK_STRING(info, 0, "mapShared", "path");
  HEARTH_CHECK_NUMBER(info, 1, "mapShared", "nbytes");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const double requested = info[1].As<Napi::Number>().DoubleValue();
  HEARTH_CHECK(env, requested >= 0 && requested <= static_cast<double>(kMaxExternalBytes) && requested == static_cast<double>(static_cast<size_t>(requested)),
               "mapShared", "argument 'nbytes' must be a byte count between 0 and 2^32, got " + std::to_string(requested));
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw Napi::Error::New(env, "mapShared: cannot open '" + path + "': " + std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    throw Napi::Error::New(env, "mapShared: cannot stat '" + path + "': " + std::strerror(err));
  }
  size_t bytes = static_cast<size_t>(st.st_size);
  const size_t want = static_cast<size_t>(requested);
  if (bytes < want) {
    if (ftruncate(fd, static_cast<off_t>(want)) != 0) {
      const int err = errno;
      close(fd);
      throw Napi::Error::New(env, "mapShared: cannot grow '" + path + "' to " + std::to_string(want) +
                                      " bytes: " + std::strerror(err));
    }
    bytes = want;
  }
  if (static_cast<double>(bytes) > static_cast<double>(kMaxExternalBytes)) {
    close(fd);
    throw Napi::RangeError::New(env, "mapShared: '" + path + "' has " + std::to_string(bytes) +
                                         " bytes; this Node.js maps at most 4 GiB at once");
  }
  if (bytes == 0) {
    close(fd);
    return Napi::ArrayBuffer::New(env, 0);
  }
  void* data = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  close(fd);  // the mapping keeps the file's pages
  if (data == MAP_FAILED) {
    throw Napi::Error::New(env, "mapShared: cannot map '" + path + "': " + std::strerror(err));
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
  return Napi::ArrayBuffer::New(env, data, bytes, Unmap, new Mapping{bytes});
}

Napi::Value ResidentBytes(const Napi::CallbackInfo& info) {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(resident) * sysconf(_SC_PAGESIZE));
}

Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t live, cached, peak, blocks;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    live = g_live_bytes;
    cached = g_cached_bytes;
    peak = g_peak_live_bytes;
    blocks = g_cache.size();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("liveBytes", static_cast<double>(live));
  out.Set("cachedBytes", static_cast<double>(cached));
  out.Set("peakLiveBytes", static_cast<double>(peak));
  out.Set("cachedBlocks", static_cast<double>(blocks));
  return out;
}

// glibc's mallinfo2 (2.33+) sums every arena; other C libraries report nothing.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#define HEARTH_HAVE_MALLINFO2 1
#endif

Napi::Value MallocStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
#ifdef HEARTH_HAVE_MALLINFO2
  const struct mallinfo2 m = mallinfo2();
  Napi::Object out = Napi::Object::New(env);
  out.Set("arenaBytes", static_cast<double>(m.arena));
  out.Set("inUseBytes", static_cast<double>(m.uordblks));
  out.Set("freeBytes", static_cast<double>(m.fordblks));
  out.Set("mappedBytes", static_cast<double>(m.hblkhd));
  return out;
#else
  return env.Null();
#endif
}

}  // namespace hearth
