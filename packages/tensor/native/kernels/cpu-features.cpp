// Reads CPUID (and XCR0, so the OS really saves the wide registers) once.
#include "cpu-features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace hearth {
namespace {

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  bool osxsave = (c >> 27) & 1;
  if (!osxsave) return f;
  unsigned xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  bool ymm = (xcr0_lo & 0x6) == 0x6;
  bool zmm = (xcr0_lo & 0xe6) == 0xe6;
  bool tiles = (xcr0_lo & 0x60000) == 0x60000;
  f.fma = ((c >> 12) & 1) && ymm;
  f.f16c = ((c >> 29) & 1) && ymm;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    f.avx2 = ((b >> 5) & 1) && ymm;
    f.avx512f = ((b >> 16) & 1) && zmm;
    f.avx512bw = ((b >> 30) & 1) && zmm;
    f.avx512vl = ((b >> 31) & 1) && zmm;
    f.amx_bf16 = ((d >> 22) & 1) && ((d >> 24) & 1) && tiles;
  }
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
    f.avx512bf16 = ((a >> 5) & 1) && zmm;
  }
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

bool request_amx() {
  static const bool granted = [] {
    if (!cpu_features().amx_bf16) return false;
#if defined(__linux__) && defined(__x86_64__)
    // ARCH_REQ_XCOMP_PERM (0x1023) for XFEATURE_XTILEDATA (18).
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
    return false;
#endif
  }();
  return granted;
}

}  // namespace hearth
