#pragma once
#include <napi.h>

namespace hearth {
// streamRead(buffer, bytes): reads the first `bytes` bytes of an ArrayBuffer or typed array
// once on the thread pool (a memory-bandwidth probe for benchmarks) and returns a checksum.
Napi::Value StreamRead(const Napi::CallbackInfo& info);
}  // namespace hearth
