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
  bool amx_bf16 = false;  // AMX-TILE + AMX-BF16 with the OS enabling tile state in XCR0
};

const CpuFeatures& cpu_features();

// Asks Linux for permission to use AMX tile data (once per process); true when AMX may be used.
bool request_amx();
}  // namespace hearth
