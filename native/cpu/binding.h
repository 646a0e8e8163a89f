// Helpers shared by the N-API bindings. Kernels read and write the JavaScript typed arrays in place
// (no copies); scalar parameters arrive in a Float64Array shared with JavaScript (written before each
// call, read here), so a call converts no numbers.
#pragma once
#include <napi.h>

#include <cstdint>

namespace ingot {

constexpr int MAXD = 8;

/** A strided view: element (i0, i1, …) lives at off + Σ i_d·stride_d. */
struct View {
  int64_t off = 0;
  int nd = 0;
  int64_t shape[MAXD] = {};
  int64_t stride[MAXD] = {};
  int64_t numel() const {
    int64_t n = 1;
    for (int d = 0; d < nd; d++) n *= shape[d];
    return n;
  }
  /** One past the largest offset touched (0 when empty). */
  int64_t extent() const {
    if (numel() == 0) return 0;
    int64_t e = off;
    for (int d = 0; d < nd; d++) e += (shape[d] - 1) * (stride[d] < 0 ? 0 : stride[d]);
    return e + 1;
  }
  bool contiguous() const {
    int64_t acc = 1;
    for (int d = nd - 1; d >= 0; d--) {
      if (shape[d] != 1 && stride[d] != acc) return false;
      acc *= shape[d];
    }
    return true;
  }
};

/** A dim count read from JavaScript, kept within MAXD (the glue never sends more; this only keeps a
 * glue bug from writing past the arrays below). */
inline int clamp_nd(int64_t nd) { return nd < 0 ? 0 : nd > MAXD ? MAXD : int(nd); }

/** Reads the parameters of one call in order. */
struct Params {
  const double* p;
  int64_t i() { return int64_t(*p++); }
  double f() { return *p++; }
  /** A view written by JavaScript as [offset, ndim, ...shape, ...strides]. */
  View view() {
    View v;
    v.off = i();
    v.nd = clamp_nd(i());
    for (int d = 0; d < v.nd; d++) v.shape[d] = i();
    for (int d = 0; d < v.nd; d++) v.stride[d] = i();
    return v;
  }
  /** A view with the given shape: [offset, ...strides]. */
  View view_of(int nd, const int64_t* shape) {
    View v;
    v.off = i();
    v.nd = nd;
    for (int d = 0; d < nd; d++) v.shape[d] = shape[d];
    for (int d = 0; d < nd; d++) v.stride[d] = i();
    return v;
  }
};

/** The parameter buffer of this Node environment. */
Params params(const Napi::CallbackInfo& info);

template <class T>
struct ArrayType;
template <>
struct ArrayType<float> {
  static constexpr napi_typedarray_type type = napi_float32_array;
  static constexpr const char* name = "Float32Array";
};
template <>
struct ArrayType<double> {
  static constexpr napi_typedarray_type type = napi_float64_array;
  static constexpr const char* name = "Float64Array";
};
template <>
struct ArrayType<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* name = "Int32Array";
};
template <>
struct ArrayType<uint8_t> {
  static constexpr napi_typedarray_type type = napi_uint8_array;
  static constexpr const char* name = "Uint8Array";
};

/** Throws a JavaScript error (the binding then returns); always returns nullptr. */
std::nullptr_t fail(const Napi::CallbackInfo& info, const char* what);

/**
 * The data of typed-array argument i: its element type must be T and it must hold at least `need`
 * elements (so a glue bug raises an error instead of touching memory out of bounds).
 */
void* raw_array(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, int64_t need, const char* tname);
template <class T>
T* array_arg(const Napi::CallbackInfo& info, size_t i, int64_t need) {
  return static_cast<T*>(raw_array(info, i, ArrayType<T>::type, need, ArrayType<T>::name));
}
/** Any typed array: its data and element size in bytes (need counts elements). */
void* any_array(const Napi::CallbackInfo& info, size_t i, int64_t need, int* elsize);

using Binding = void (*)(const Napi::CallbackInfo&);
void bind(Napi::Env env, Napi::Object exports, const char* name, Binding fn);

// Each kernel file registers its bindings.
void init_matmul(Napi::Env env, Napi::Object exports);
void init_unary(Napi::Env env, Napi::Object exports);
void init_binary(Napi::Env env, Napi::Object exports);
void init_reduce(Napi::Env env, Napi::Object exports);
void init_nn(Napi::Env env, Napi::Object exports);
void init_conv(Napi::Env env, Napi::Object exports);
void init_pool(Napi::Env env, Napi::Object exports);

}  // namespace ingot
