// JS binding of the memory-bandwidth probe (kernels/stream-read.h).
#include "stream-read-api.h"

#include <string>

#include "args.h"
#include "kernels/stream-read.h"

namespace hearth {

Napi::Value StreamRead(const Napi::CallbackInfo& info) {
  static const char* fn = "streamRead";
  HEARTH_CHECK_ARGC(info, 2, fn);
  const BufferArg buf = GetBuffer(info, 0, fn, "buffer");
  const int64_t bytes = GetIndex(info, 1, fn, "bytes");
  HEARTH_CHECK(info.Env(), static_cast<double>(bytes) <= static_cast<double>(buf.bytes), fn,
               "argument 'bytes' must be at most the buffer's " + std::to_string(buf.bytes) + " bytes, got " +
                   std::to_string(bytes));
  // The checksum only keeps the reads alive; 2^53 wraps are fine for that.
  return Napi::Number::New(info.Env(), static_cast<double>(stream_read(buf.data, bytes) & ((uint64_t{1} << 53) - 1)));
}

}  // namespace hearth
