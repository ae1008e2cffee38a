// Entry point of pvctrl_native_lazy.node: the concerns whose libraries cost start-up time when
// loaded (libcrypto for the SHA-256 ingests, liblxc with its chain, libkmod). The daemon loads it
// on the first upload, container or driver operation, after the socket already answers
// (src/native/index.ts; docs/footprint.md "Start-up").
#include <napi.h>

#include "napi_util.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pvctrl::InitSha256Ingest(env, exports);
  pvctrl::InitFdIngest(env, exports);
  pvctrl::InitLxcContainer(env, exports);
  pvctrl::InitKmodDrivers(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(pvctrl_native_lazy, Init)
