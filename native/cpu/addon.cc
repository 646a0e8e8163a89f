// The module: its entry point, the shared parameter buffer, argument checks, and the pool controls.
#include <napi.h>

#include <cstdlib>
#include <cstring>
#include <string>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "binding.h"
#include "gemm.h"
#include "threadpool.h"

namespace ingot {

void init_attention(Napi::Env env, Napi::Object exports);  // attention.cc
void init_quant(Napi::Env env, Napi::Object exports);  // quant.cc: compress.quantize's low-bit kernels

namespace {

// Bumped whenever the JavaScript ↔ C++ calling convention changes; the loader refuses a stale build.
constexpr int ABI = 1;

struct Instance {
  Napi::Reference<Napi::Float64Array> params;
  const double* p = nullptr;
};

alignas(64) const unsigned char empty_data[64] = {};

void set_params(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    fail(info, "init: expected the parameter Float64Array");
    return;
  }
  auto* inst = info.Env().GetInstanceData<Instance>();
  auto arr = info[0].As<Napi::Float64Array>();
  inst->params = Napi::Persistent(arr);
  inst->p = arr.Data();
}

Napi::Value get_num_threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

void set_threads(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsNumber()) {
    fail(info, "setNumThreads: expected a number");
    return;
  }
  set_num_threads(info[0].As<Napi::Number>().Int32Value());
}

// The address of a typed array's first byte modulo 64 (tensor/dtype.ts starts every tensor buffer on
// a cache line with it: malloc only promises 16 bytes, and a 64-byte vector load or store that
// straddles two lines costs both; unaligned C tiles cost the GEMM 3–7 %, docs/native-gemm.md).
Napi::Value misalign(const Napi::CallbackInfo& info) {
  int elsize;
  const void* data = any_array(info, 0, 0, &elsize);
  if (!data) return info.Env().Undefined();  // not a typed array: the exception is pending
  return Napi::Number::New(info.Env(), double(reinterpret_cast<uintptr_t>(data) & 63));
}

}  // namespace

Params params(const Napi::CallbackInfo& info) { return Params{info.Env().GetInstanceData<Instance>()->p}; }

std::nullptr_t fail(const Napi::CallbackInfo& info, const char* what) {
  Napi::Error::New(info.Env(), std::string("ingot native: ") + what).ThrowAsJavaScriptException();
  return nullptr;
}

void* raw_array(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, int64_t need, const char* tname) {
  napi_typedarray_type t;
  size_t len;
  void* data;
  napi_value ab;
  size_t boff;
  if (i >= info.Length() || napi_get_typedarray_info(info.Env(), info[i], &t, &len, &data, &ab, &boff) != napi_ok)
    return fail(info, ("argument " + std::to_string(i) + " is not a typed array").c_str());
  if (t != type) return fail(info, ("argument " + std::to_string(i) + " is not a " + tname).c_str());
  if (need < 0 || int64_t(len) < need)
    return fail(info, ("argument " + std::to_string(i) + " holds " + std::to_string(len) + " elements, the call needs " + std::to_string(need)).c_str());
  return len == 0 ? const_cast<unsigned char*>(empty_data) : data;
}

void* any_array(const Napi::CallbackInfo& info, size_t i, int64_t need, int* elsize) {
  napi_typedarray_type t;
  size_t len;
  void* data;
  napi_value ab;
  size_t boff;
  if (i >= info.Length() || napi_get_typedarray_info(info.Env(), info[i], &t, &len, &data, &ab, &boff) != napi_ok)
    return fail(info, ("argument " + std::to_string(i) + " is not a typed array").c_str());
  switch (t) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      *elsize = 1;
      break;
    case napi_int16_array:
    case napi_uint16_array:
      *elsize = 2;
      break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      *elsize = 8;
      break;
    default:
      *elsize = 4;
  }
  if (need < 0 || int64_t(len) < need)
    return fail(info, ("argument " + std::to_string(i) + " holds " + std::to_string(len) + " elements, the call needs " + std::to_string(need)).c_str());
  return len == 0 ? const_cast<unsigned char*>(empty_data) : data;
}

void bind(Napi::Env env, Napi::Object exports, const char* name, Binding fn) { exports.Set(name, Napi::Function::New(env, fn, name)); }

// Tensor storage is JavaScript typed arrays, freed only when the garbage collector runs; by then
// glibc has often handed the pages back to the kernel, so the next tensor of that size faults every
// page in again (3–6 µs per 4 KiB page in a VM, more than most kernels take). Keep freed memory in
// the process instead (PyTorch's malloc-based allocator gets the same from glibc's dynamic
// thresholds). INGOT_MALLOC_TUNE=0 leaves glibc's defaults alone.
void tune_malloc() {
#if defined(__GLIBC__)
  const char* s = std::getenv("INGOT_MALLOC_TUNE");
  if (s && std::strcmp(s, "0") == 0) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
}

Napi::Object module_init(Napi::Env env, Napi::Object exports) {
  tune_malloc();
  env.SetInstanceData(new Instance());
  exports.Set("abi", Napi::Number::New(env, ABI));
  exports.Set("isa", Napi::String::New(env, gemm_isa()));
  exports.Set("init", Napi::Function::New(env, set_params, "init"));
  exports.Set("numThreads", Napi::Function::New(env, get_num_threads, "numThreads"));
  exports.Set("setNumThreads", Napi::Function::New(env, set_threads, "setNumThreads"));
  exports.Set("misalign", Napi::Function::New(env, misalign, "misalign"));
  init_matmul(env, exports);
  init_unary(env, exports);
  init_binary(env, exports);
  init_reduce(env, exports);
  init_nn(env, exports);
  init_conv(env, exports);
  init_pool(env, exports);
  init_quant(env, exports);
  init_attention(env, exports);
  return exports;
}

}  // namespace ingot

static Napi::Object InitIngot(Napi::Env env, Napi::Object exports) { return ingot::module_init(env, exports); }
NODE_API_MODULE(ingot_cpu, InitIngot)
