// Entry point of pvctrl_native.node, the core addon the daemon loads before its first accept.
// It carries only what serving the first request needs (peer credentials, systemd notify, the
// stream writer) and the small libc-only concerns (pidfd watch, image page-out), so its dlopen
// pulls in no library beyond libc: libcrypto, liblxc and libkmod live in
// pvctrl_native_lazy.node (addon_lazy.cpp), loaded on first use (docs/footprint.md "Start-up").
#include <napi.h>

#include "napi_util.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pvctrl::InitPeerCreds(env, exports);
  pvctrl::InitPidfdWatch(env, exports);
  pvctrl::InitSdNotify(env, exports);
  pvctrl::InitImagePageOut(env, exports);
  pvctrl::InitStreamWriter(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(pvctrl_native, Init)
