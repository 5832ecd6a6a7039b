{
  "targets": [
    {
      "target_name": "hearth_native",
      "sources": [
        "native/binding/addon.cpp",
        "native/binding/args.cpp",
        "native/binding/attention.cpp",
        "native/binding/convert.cpp",
        "native/binding/gemm.cpp",
        "native/binding/elementwise.cpp",
        "native/binding/fused.cpp",
        "native/binding/indexing.cpp",
        "native/binding/memory.cpp",
        "native/binding/optim.cpp",
        "native/kernels/attention.cpp",
        "native/kernels/cpu-features.cpp",
        "native/kernels/thread-pool.cpp",
        "native/kernels/gemm.cpp",
        "native/kernels/gemm-generic.cpp",
        "native/kernels/gemm-stats.cpp",
        "native/kernels/fused.cpp",
        "native/kernels/fused-rows.cpp",
        "native/kernels/convert.cpp",
        "native/kernels/gemv.cpp",
        "native/kernels/indexing.cpp",
        "native/kernels/optim.cpp",
        "native/kernels/elementwise.cpp",
        "native/binding/cross-entropy.cpp",
        "native/kernels/cross-entropy.cpp",
        "native/binding/random.cpp",
        "native/binding/scan.cpp",
        "native/binding/stream-read.cpp",
        "native/kernels/stream-read.cpp",
        "native/kernels/cast.cpp",
        "native/kernels/cumsum.cpp",
        "native/kernels/random.cpp",
        "native/kernels/sort.cpp",
        "native/kernels/arg-reduce.cpp",
        "native/kernels/int-elementwise.cpp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "native/kernels"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": [
        "-fno-exceptions"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O3",
        "-fexceptions",
        "-pthread"
      ],
      "cflags": [
        "-O3"
      ],
      "conditions": [
        [
          "target_arch=='x64'",
          {
            "sources": [
              "native/kernels/arch/x86/gemm-avx512.cpp",
              "native/kernels/arch/x86/gemm-amx.cpp",
              "native/kernels/arch/x86/gemm-amx-bf16x3.cpp",
              "native/kernels/arch/x86/gemm-avx2.cpp",
              "native/kernels/arch/x86/gemv-avx512.cpp",
              "native/kernels/arch/x86/gemv-avx2.cpp",
              "native/kernels/arch/x86/vec-math-avx512.cpp",
              "native/kernels/arch/x86/vec-math-avx2.cpp",
              "native/kernels/arch/x86/optim-avx512.cpp",
              "native/kernels/arch/x86/optim-avx2.cpp",
              "native/kernels/arch/x86/fused-rows-avx512.cpp",
              "native/kernels/arch/x86/fused-rows-avx2.cpp",
              "native/kernels/arch/x86/attention-avx512.cpp",
              "native/kernels/arch/x86/attention-avx2.cpp",
              "native/kernels/arch/x86/convert-avx512.cpp",
              "native/kernels/arch/x86/convert-avx2.cpp",
              "native/kernels/arch/x86/random-avx512.cpp",
              "native/kernels/arch/x86/random-avx2.cpp"
            ]
          }
        ]
      ],
      "libraries": [
        "-lpthread"
      ]
    }
  ]
}
