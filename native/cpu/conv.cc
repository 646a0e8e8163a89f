// (being written)
#include "binding.h"
namespace ingot {
void init_conv(Napi::Env, Napi::Object) {}
}  // namespace ingot
