# The native CPU backend (native/cpu), built by `npm install` through scripts/build-native.mjs.
# -march defaults to the build machine's own instruction set (the addon is built where it runs);
# set INGOT_MARCH (e.g. x86-64-v3) to build for other machines.
{
  "targets": [
    {
      "target_name": "ingot_cpu",
      "sources": [
        "native/cpu/addon.cc",
        "native/cpu/threadpool.cc",
        "native/cpu/gemm.cc",
        "native/cpu/matmul.cc",
        "native/cpu/unary.cc",
        "native/cpu/binary.cc",
        "native/cpu/reduce.cc",
        "native/cpu/nn.cc",
        "native/cpu/conv.cc",
        "native/cpu/pool2d.cc",
        "native/cpu/quant.cc",
        "native/cpu/attention.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O3", "-fomit-frame-pointer", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wno-unused-function"],
      "conditions": [
        ["target_arch == 'x64' or target_arch == 'ia32'", {
          "cflags_cc": ["-march=<!(node -p \"process.env.INGOT_MARCH || 'native'\")"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-march=<!(node -p \"process.env.INGOT_MARCH || 'native'\")"]}
        }],
        ["target_arch == 'arm64' and OS != 'mac'", {"cflags_cc": ["-mcpu=native"]}],
        ["OS == 'mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "MACOSX_DEPLOYMENT_TARGET": "10.15",
            "OTHER_CPLUSPLUSFLAGS": ["-fno-math-errno"]
          }
        }],
        ["OS == 'win'", {
          "msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/std:c++17", "/O2", "/arch:AVX2"]}}
        }]
      ]
    }
  ]
}
