// Compiles the rest of a file for an instruction set the baseline build lacks:
// HEARTH_TARGET_BEGIN("avx2,fma") after the file's standard includes, HEARTH_TARGET_END() at its
// end. The dispatcher calls into such a file only after CPUID says the set is there.
#pragma once

#define HEARTH_PRAGMA(...) _Pragma(#__VA_ARGS__)

#if defined(__clang__)
#define HEARTH_TARGET_BEGIN(isa) HEARTH_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define HEARTH_TARGET_END() HEARTH_PRAGMA(clang attribute pop)
#else
#define HEARTH_TARGET_BEGIN(isa) HEARTH_PRAGMA(GCC push_options) HEARTH_PRAGMA(GCC target(isa))
#define HEARTH_TARGET_END() HEARTH_PRAGMA(GCC pop_options)
#endif
