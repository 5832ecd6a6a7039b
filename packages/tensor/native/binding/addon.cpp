// The addon's entry point: registers every exported function. Kernels live in ../kernels and
// never include N-API; the files in this folder only check arguments and call them.
#include <napi.h>

#include "kernels/cpu-features.h"
#include "attention-api.h"
#include "cross-entropy-api.h"
#include "convert-api.h"
#include "elementwise-api.h"
#include "fused-api.h"
#include "gemm-api.h"
#include "indexing-api.h"
#include "memory.h"
#include "optim-api.h"
#include "random-api.h"
#include "scan-api.h"
#include "stream-read-api.h"

namespace hearth {
namespace {

Napi::Value CpuFeaturesValue(const Napi::CallbackInfo& info) {
  const CpuFeatures& f = cpu_features();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("avx2", f.avx2);
  out.Set("fma", f.fma);
  out.Set("f16c", f.f16c);
  out.Set("avx512f", f.avx512f);
  out.Set("avx512bw", f.avx512bw);
  out.Set("avx512vl", f.avx512vl);
  out.Set("avx512bf16", f.avx512bf16);
  out.Set("amxBf16", f.amx_bf16);
  return out;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitMemory(env);
  exports.Set("allocate", Napi::Function::New(env, Allocate, "allocate"));
  exports.Set("free", Napi::Function::New(env, Free, "free"));
  exports.Set("mapFile", Napi::Function::New(env, MapFile, "mapFile"));
  exports.Set("mapFdRange", Napi::Function::New(env, MapFdRange, "mapFdRange"));
  exports.Set("mapShared", Napi::Function::New(env, MapShared, "mapShared"));
  exports.Set("residentBytes", Napi::Function::New(env, ResidentBytes, "residentBytes"));
  exports.Set("allocatorStats", Napi::Function::New(env, AllocatorStats, "allocatorStats"));
  exports.Set("mallocStats", Napi::Function::New(env, MallocStats, "mallocStats"));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesValue, "cpuFeatures"));
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("gemmPackedBytes", Napi::Function::New(env, GemmPackedBytes, "gemmPackedBytes"));
  exports.Set("gemmPackB", Napi::Function::New(env, GemmPackB, "gemmPackB"));
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("reduce", Napi::Function::New(env, Reduce, "reduce"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("where", Napi::Function::New(env, Where, "where"));
  exports.Set("gather", Napi::Function::New(env, Gather, "gather"));
  exports.Set("scatterAdd", Napi::Function::New(env, ScatterAdd, "scatterAdd"));
  exports.Set("softmaxRows", Napi::Function::New(env, SoftmaxRows, "softmaxRows"));
  exports.Set("softmaxBackwardRows", Napi::Function::New(env, SoftmaxBackwardRows, "softmaxBackwardRows"));
  exports.Set("layerNormRows", Napi::Function::New(env, LayerNormRows, "layerNormRows"));
  exports.Set("layerNormBackwardRows", Napi::Function::New(env, LayerNormBackwardRows, "layerNormBackwardRows"));
  exports.Set("rmsNormRows", Napi::Function::New(env, RmsNormRows, "rmsNormRows"));
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("attentionBackward", Napi::Function::New(env, AttentionBackward, "attentionBackward"));
  exports.Set("selectAttentionKernel", Napi::Function::New(env, SelectAttentionKernel, "selectAttentionKernel"));
  exports.Set("adamStep", Napi::Function::New(env, AdamStep, "adamStep"));
  exports.Set("gemvPackedRows", Napi::Function::New(env, GemvPackedRows, "gemvPackedRows"));
  exports.Set("gemmKernel", Napi::Function::New(env, GemmKernel, "gemmKernel"));
  exports.Set("selectGemmKernel", Napi::Function::New(env, SelectGemmKernel, "selectGemmKernel"));
  exports.Set("numThreads", Napi::Function::New(env, NumThreads, "numThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads, "setNumThreads"));
  exports.Set("poolStats", Napi::Function::New(env, PoolStatsValue, "poolStats"));
  exports.Set("streamRead", Napi::Function::New(env, StreamRead, "streamRead"));
  exports.Set("crossEntropyRows", Napi::Function::New(env, CrossEntropyRows, "crossEntropyRows"));
  exports.Set("crossEntropyBackwardRows", Napi::Function::New(env, CrossEntropyBackwardRows, "crossEntropyBackwardRows"));
  exports.Set("logSoftmaxRows", Napi::Function::New(env, LogSoftmaxRows, "logSoftmaxRows"));
  exports.Set("logSoftmaxBackwardRows", Napi::Function::New(env, LogSoftmaxBackwardRows, "logSoftmaxBackwardRows"));
  exports.Set("rmsNormBackwardRows", Napi::Function::New(env, RmsNormBackwardRows, "rmsNormBackwardRows"));
  exports.Set("activation", Napi::Function::New(env, ActivationForward, "activation"));
  exports.Set("activationBackward", Napi::Function::New(env, ActivationBackward, "activationBackward"));
  exports.Set("fusedKernel", Napi::Function::New(env, FusedKernel, "fusedKernel"));
  exports.Set("convert", Napi::Function::New(env, Convert, "convert"));
  exports.Set("convertKernel", Napi::Function::New(env, ConvertKernel, "convertKernel"));
  exports.Set("compare", Napi::Function::New(env, Compare, "compare"));
  exports.Set("cast", Napi::Function::New(env, Cast, "cast"));
  exports.Set("cumsum", Napi::Function::New(env, Cumsum, "cumsum"));
  exports.Set("sort", Napi::Function::New(env, Sort, "sort"));
  exports.Set("intUnary", Napi::Function::New(env, IntUnary, "intUnary"));
  exports.Set("intBinary", Napi::Function::New(env, IntBinary, "intBinary"));
  exports.Set("intReduce", Napi::Function::New(env, IntReduce, "intReduce"));
  exports.Set("argReduce", Napi::Function::New(env, ArgReduce, "argReduce"));
  exports.Set("randomFill", Napi::Function::New(env, RandomFill, "randomFill"));
  exports.Set("randomKernel", Napi::Function::New(env, RandomKernel, "randomKernel"));
  exports.Set("selectRandomKernel", Napi::Function::New(env, SelectRandomKernel, "selectRandomKernel"));
  return exports;
}

}  // namespace hearth

static Napi::Object InitHearth(Napi::Env env, Napi::Object exports) { return hearth::Init(env, exports); }

NODE_API_MODULE(hearth_native, InitHearth)
