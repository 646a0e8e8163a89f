// (being written)
#include "binding.h"
namespace ingot {
void init_reduce(Napi::Env, Napi::Object) {}
}  // namespace ingot
