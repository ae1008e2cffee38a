// Caller identity for connections on the control socket.
//
// SO_PEERCRED gives the pid the kernel recorded at connect() time; that pid
// may be recycled by the time /proc/<pid>/cgroup is read. SO_PEERPIDFD hands
// out a pidfd pinned to the same process, which lets the TypeScript side prove
// (via /proc/self/fdinfo) that the pid still names the original peer.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>

#include "napi_util.h"

#ifndef SO_PEERPIDFD
// asm-generic value (x86, arm, arm64, riscv); libc headers older than the
// kernel feature (6.5) lack it.
#define SO_PEERPIDFD 77
#endif

namespace pvctrl {

namespace {

// Returns -1 where the kernel cannot provide a pidfd: ENOPROTOOPT before 6.5,
// EINVAL/ESRCH when the peer was already reaped on kernels before 6.16,
// ENODATA when the socket has no recorded peer. Other failures (EMFILE...)
// are real errors and are thrown.
int PeerPidfd(Napi::Env env, int fd) {
  int pidfd = -1;
  socklen_t length = sizeof(pidfd);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &length) != 0) {
    const int err = errno;
    if (err == ENOPROTOOPT || err == EINVAL || err == ESRCH || err == ENODATA) return -1;
    throw ErrnoError(env, "peerCredentials", "getsockopt(SO_PEERPIDFD)", err);
  }
  if (length != sizeof(pidfd) || pidfd < 0) return -1;
  // The kernel already sets FD_CLOEXEC on pidfds it installs; enforce it anyway
  // so a child spawned by the daemon can never inherit a caller's pidfd.
  const int flags = fcntl(pidfd, F_GETFD);
  if (flags >= 0 && (flags & FD_CLOEXEC) == 0) fcntl(pidfd, F_SETFD, flags | FD_CLOEXEC);
  return pidfd;
}

Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 1, "peerCredentials");
  const int fd = RequireFd(info, 0, "peerCredentials", "fd");

  struct ucred credentials {};
  socklen_t length = sizeof(credentials);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    throw ErrnoError(env, "peerCredentials", "getsockopt(SO_PEERCRED)", errno);
  }
  if (length != sizeof(credentials)) {
    throw Napi::Error::New(env, "peerCredentials: getsockopt(SO_PEERCRED) returned a short ucred");
  }

  const int pidfd = PeerPidfd(env, fd);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, credentials.pid));
  result.Set("uid", Napi::Number::New(env, credentials.uid));
  result.Set("gid", Napi::Number::New(env, credentials.gid));
  result.Set("pidfd", Napi::Number::New(env, pidfd));
  return result;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  RequireArgCount(info, 1, "closeFd");
  const int fd = RequireFd(info, 0, "closeFd", "fd");
  // On Linux the descriptor is released even when close() reports EINTR, so
  // retrying could close an fd another thread just opened; treat it as done.
  if (close(fd) != 0 && errno != EINTR) throw ErrnoError(info.Env(), "closeFd", "close", errno);
  return info.Env().Undefined();
}

}  // namespace

void InitPeerCreds(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
}

}  // namespace pvctrl
