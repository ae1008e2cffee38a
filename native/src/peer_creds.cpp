// Caller identity for connections on the control socket.
//
// SO_PEERCRED gives the pid the kernel recorded at connect() time; that pid
// may be recycled by the time /proc/<pid>/cgroup is read. SO_PEERPIDFD hands
// out a pidfd pinned to the same process: once /proc/<pid>/cgroup is read, a
// signal 0 sent through the pidfd proves that the pid still names the original
// peer (pidfd_send_signal fails with ESRCH once that process is gone, and a pid
// is only recycled after that).
//
// Both run on every request (caller identification, spec §4.1), so they are
// plain syscalls here: readFileSync of the cgroup file and of the pidfd's
// fdinfo cost the event loop about 26 us a request, a quarter of a GET.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>

#include "napi_util.h"

#ifndef SO_PEERPIDFD
// asm-generic value (x86, arm, arm64, riscv); libc headers older than the
// kernel feature (6.5) lack it.
#define SO_PEERPIDFD 77
#endif

#ifndef SYS_pidfd_send_signal
// The same number on every architecture (Linux 5.1); older libc headers lack it.
#define SYS_pidfd_send_signal 424
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

// The text of /proc/<pid>/cgroup (a few hundred bytes; read to the end whatever its size).
Napi::Value ReadProcessCgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 1, "readProcessCgroup");
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "readProcessCgroup: pid must be a positive integer");
  const int64_t pid = info[0].As<Napi::Number>().Int64Value();
  if (pid <= 0 || pid > INT32_MAX) throw Napi::TypeError::New(env, "readProcessCgroup: pid must be a positive integer");
  char path[48];
  std::snprintf(path, sizeof(path), "/proc/%lld/cgroup", static_cast<long long>(pid));
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ErrnoError(env, "readProcessCgroup", "open", errno);
  std::string text;
  char buffer[1024];
  for (;;) {
    const ssize_t count = read(fd, buffer, sizeof(buffer));
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      const int err = errno;
      close(fd);
      throw ErrnoError(env, "readProcessCgroup", "read", err);
    }
    if (count == 0) break;
    text.append(buffer, static_cast<size_t>(count));
  }
  close(fd);
  return Napi::String::New(env, text);
}

// Whether the process behind a pidfd has not been reaped yet: signal 0 checks without
// signalling. EPERM (a peer the daemon may not signal) still means it exists.
Napi::Value PidfdAlive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 1, "pidfdAlive");
  const int pidfd = RequireFd(info, 0, "pidfdAlive", "pidfd");
  if (syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0) return Napi::Boolean::New(env, true);
  const int err = errno;
  if (err == EPERM) return Napi::Boolean::New(env, true);
  if (err == ESRCH) return Napi::Boolean::New(env, false);
  throw ErrnoError(env, "pidfdAlive", "pidfd_send_signal", err);
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
  exports.Set("readProcessCgroup", Napi::Function::New(env, ReadProcessCgroup, "readProcessCgroup"));
  exports.Set("pidfdAlive", Napi::Function::New(env, PidfdAlive, "pidfdAlive"));
}

}  // namespace pvctrl
