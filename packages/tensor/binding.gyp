{
  "targets": [
    {
      "target_name": "hearth_native",
      "sources": [
        "native/binding/addon.cpp",
        "native/binding/memory.cpp",
        "native/kernels/cpu-features.cpp"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions"],
      "cflags": ["-O3"]
    }
  ]
}
