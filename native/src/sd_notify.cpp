// systemd's service protocols, without libsystemd (sd_notify(3), sd_listen_fds(3)):
// a datagram to $NOTIFY_SOCKET, a look at the listening socket passed as fd 3, and
// removing their variables from the C environment children are spawned with.
//
// Neither Bun nor Node can send on an AF_UNIX SOCK_DGRAM socket, hence this file. Every
// function returns at once: the send never waits (MSG_DONTWAIT), so a stalled service
// manager costs one lost message, never a stalled event loop. None of this runs on a thread
// of its own: the watchdog ping is only sent when the JavaScript loop gets to send it.
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "napi_util.h"

namespace pvctrl {

namespace {

// sockaddr_un for "/path" or "@abstract" (leading NUL, length without a terminator), as
// systemd writes $NOTIFY_SOCKET. Returns the address length, or 0 when it does not fit.
socklen_t UnixAddress(const std::string& address, sockaddr_un* out) {
  std::memset(out, 0, sizeof(*out));
  out->sun_family = AF_UNIX;
  if (address.size() >= sizeof(out->sun_path)) return 0;
  std::memcpy(out->sun_path, address.data(), address.size());
  if (address[0] == '@') {
    out->sun_path[0] = '\0';
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  }
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() + 1);
}

Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 2, "sdNotify");
  const std::string address = RequirePath(info, 0, "sdNotify", "address");
  const std::string message = RequirePath(info, 1, "sdNotify", "message");
  if (address[0] != '/' && address[0] != '@') {
    throw CodedError(env, "sdNotify: address must be an absolute path or @abstract", "EINVAL");
  }
  sockaddr_un target;
  const socklen_t length = UnixAddress(address, &target);
  if (length == 0) throw CodedError(env, "sdNotify: address too long for a Unix socket", "ENAMETOOLONG");

  const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, "sdNotify", "socket", errno);
  ssize_t sent;
  do {
    sent = sendto(fd, message.data(), message.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                  reinterpret_cast<const sockaddr*>(&target), length);
  } while (sent < 0 && errno == EINTR);
  const int err = errno;
  close(fd);
  if (sent < 0) throw ErrnoError(env, "sdNotify", "sendto", err, address);
  return env.Undefined();
}

// The socket systemd passed (LISTEN_FDS): it must be a listening AF_UNIX stream socket, which
// is what node:net can serve. Marks it close-on-exec so no child (LXC start helper, pv-xconnect,
// dropbear) holds the API socket, and returns its address ("/path", "@abstract", or "" when
// unnamed) so the start-up self-check can connect to it.
Napi::Value ListenSocketPath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 1, "listenSocketPath");
  const int fd = RequireFd(info, 0, "listenSocketPath", "fd");

  sockaddr_un address;
  socklen_t length = sizeof(address);
  std::memset(&address, 0, sizeof(address));
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw ErrnoError(env, "listenSocketPath", "getsockname", errno);
  }
  if (address.sun_family != AF_UNIX) {
    throw CodedError(env, "listenSocketPath: fd " + std::to_string(fd) + " is not a Unix socket", "EAFNOSUPPORT");
  }
  int type = 0;
  socklen_t size = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0) {
    throw ErrnoError(env, "listenSocketPath", "getsockopt(SO_TYPE)", errno);
  }
  if (type != SOCK_STREAM) {
    throw CodedError(env, "listenSocketPath: fd " + std::to_string(fd) + " is not a stream socket", "EPROTOTYPE");
  }
  int listening = 0;
  size = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0) {
    throw ErrnoError(env, "listenSocketPath", "getsockopt(SO_ACCEPTCONN)", errno);
  }
  if (listening == 0) {
    throw CodedError(env, "listenSocketPath: fd " + std::to_string(fd) + " is not listening", "EINVAL");
  }
  const int flags = fcntl(fd, F_GETFD);
  if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
    throw ErrnoError(env, "listenSocketPath", "fcntl(FD_CLOEXEC)", errno);
  }

  const size_t pathBytes = length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
  if (pathBytes == 0) return Napi::String::New(env, "");
  if (address.sun_path[0] == '\0') return Napi::String::New(env, "@" + std::string(address.sun_path + 1, pathBytes - 1));
  return Napi::String::New(env, std::string(address.sun_path, strnlen(address.sun_path, pathBytes)));
}

// process.env is a copy under Bun: deleting from it leaves the C environment that
// posix_spawn(…, environ) children (the LXC start helper) inherit. Called once at start-up.
Napi::Value UnsetEnv(const Napi::CallbackInfo& info) {
  RequireArgCount(info, 1, "unsetEnv");
  const std::string name = RequirePath(info, 0, "unsetEnv", "name");
  if (name.find('=') != std::string::npos) throw CodedError(info.Env(), "unsetEnv: name must not contain '='", "EINVAL");
  if (unsetenv(name.c_str()) != 0) throw ErrnoError(info.Env(), "unsetEnv", "unsetenv", errno);
  return info.Env().Undefined();
}

}  // namespace

void InitSdNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  exports.Set("listenSocketPath", Napi::Function::New(env, ListenSocketPath, "listenSocketPath"));
  exports.Set("unsetEnv", Napi::Function::New(env, UnsetEnv, "unsetEnv"));
}

}  // namespace pvctrl
