// Module entry point. Each concern lives in its own file and registers its
// exports here, so adding one (LXC, kmod) is one source file plus one line.
#include <napi.h>

#include "napi_util.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pvctrl::InitPeerCreds(env, exports);
  pvctrl::InitSha256Ingest(env, exports);
  pvctrl::InitFdIngest(env, exports);
  pvctrl::InitLxcContainer(env, exports);
  pvctrl::InitKmodDrivers(env, exports);
  pvctrl::InitPidfdWatch(env, exports);
  pvctrl::InitSdNotify(env, exports);
  pvctrl::InitImagePageOut(env, exports);
  pvctrl::InitStreamWriter(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(pvctrl_native, Init)
