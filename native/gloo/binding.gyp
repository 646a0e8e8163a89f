# The Gloo process-group addon (native/gloo → native/gloo/build/Release/ingot_gloo.node), built by
# scripts/build-native.mjs only where Gloo's headers are installed (Debian: libgloo-dev).
{
  "targets": [
    {
      "target_name": "ingot_gloo",
      "sources": ["gloo_addon.cc", "store_client.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "include_dirs": ["<!(node -p \"process.env.INGOT_GLOO_INCLUDE || '/usr/include'\")"],
      "libraries": ["-L<!(node -p \"process.env.INGOT_GLOO_LIB || '/usr/lib'\")", "-lgloo", "-lpthread"]
    }
  ]
}
