// Memory handed to JavaScript: aligned heap allocations and private file mappings, both as
// external ArrayBuffers that free themselves (and un-report their size) when collected.
#include "memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "check.h"

namespace hearth {
namespace {

constexpr size_t kAlignment = 64;

struct Allocation {
  size_t bytes;
};

void FreeAligned(Napi::Env env, void* data, Allocation* hint) {
  std::free(data);
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(hint->bytes));
  delete hint;
}

struct Mapping {
  size_t bytes;
};

void Unmap(Napi::Env env, void* data, Mapping* hint) {
  munmap(data, hint->bytes);
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(hint->bytes));
  delete hint;
}

}  // namespace

Napi::Value Allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  HEARTH_CHECK_ARGC(info, 1, "allocate");
  HEARTH_CHECK_NUMBER(info, 0, "allocate", "nbytes");
  double requested = info[0].As<Napi::Number>().DoubleValue();
  HEARTH_CHECK(env, requested >= 0 && requested <= 9.0e15, "allocate",
               "argument 'nbytes' must be a non-negative byte count, got " + std::to_string(requested));
  size_t bytes = static_cast<size_t>(requested);
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* data = std::aligned_alloc(kAlignment, rounded);
  if (data == nullptr) {
    throw Napi::Error::New(env, "allocate: out of memory allocating " + std::to_string(bytes) + " bytes");
  }
  std::memset(data, 0, rounded);
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(bytes));
  return Napi::ArrayBuffer::New(env, data, bytes, FreeAligned, new Allocation{bytes});
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

Napi::Value ResidentBytes(const Napi::CallbackInfo& info) {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f != nullptr) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return Napi::Number::New(info.Env(), static_cast<double>(resident) * sysconf(_SC_PAGESIZE));
}

}  // namespace hearth
