// (being written)
#include "binding.h"
namespace ingot {
void init_nn(Napi::Env, Napi::Object) {}
}  // namespace ingot
