// CPU feature detection, done once at load time; kernels pick their variant from it.
#pragma once

namespace hearth {
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512bf16 = false;
};

const CpuFeatures& cpu_features();
}  // namespace hearth
