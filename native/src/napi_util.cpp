#include "napi_util.h"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>

namespace pvctrl {

namespace {

struct ErrnoEntry {
  int value;
  const char* name;
};

// An explicit table rather than glibc's strerrorname_np(): the daemon also
// targets musl-based Yocto images, where that extension does not exist.
#define PVCTRL_ERRNO(e) {e, #e}
const ErrnoEntry kErrnoNames[] = {
    PVCTRL_ERRNO(EPERM),   PVCTRL_ERRNO(ENOENT),       PVCTRL_ERRNO(ESRCH),     PVCTRL_ERRNO(EINTR),
    PVCTRL_ERRNO(EIO),     PVCTRL_ERRNO(ENXIO),        PVCTRL_ERRNO(E2BIG),     PVCTRL_ERRNO(EBADF),
    PVCTRL_ERRNO(ECHILD),  PVCTRL_ERRNO(EAGAIN),       PVCTRL_ERRNO(ENOMEM),    PVCTRL_ERRNO(EACCES),
    PVCTRL_ERRNO(EFAULT),  PVCTRL_ERRNO(EBUSY),        PVCTRL_ERRNO(EEXIST),    PVCTRL_ERRNO(EXDEV),
    PVCTRL_ERRNO(ENODEV),  PVCTRL_ERRNO(ENOTDIR),      PVCTRL_ERRNO(EISDIR),    PVCTRL_ERRNO(EINVAL),
    PVCTRL_ERRNO(ENFILE),  PVCTRL_ERRNO(EMFILE),       PVCTRL_ERRNO(ENOTTY),    PVCTRL_ERRNO(ETXTBSY),
    PVCTRL_ERRNO(EFBIG),   PVCTRL_ERRNO(ENOSPC),       PVCTRL_ERRNO(ESPIPE),    PVCTRL_ERRNO(EROFS),
    PVCTRL_ERRNO(EMLINK),  PVCTRL_ERRNO(EPIPE),        PVCTRL_ERRNO(ERANGE),    PVCTRL_ERRNO(ENAMETOOLONG),
    PVCTRL_ERRNO(ENOSYS),  PVCTRL_ERRNO(ENOTEMPTY),    PVCTRL_ERRNO(ELOOP),     PVCTRL_ERRNO(ENODATA),
    PVCTRL_ERRNO(ENOTSOCK), PVCTRL_ERRNO(ENOPROTOOPT), PVCTRL_ERRNO(EOPNOTSUPP), PVCTRL_ERRNO(ENOTCONN),
    PVCTRL_ERRNO(ECONNRESET), PVCTRL_ERRNO(ETIMEDOUT), PVCTRL_ERRNO(EDQUOT),   PVCTRL_ERRNO(ECANCELED),
    PVCTRL_ERRNO(EOVERFLOW),
};
#undef PVCTRL_ERRNO

}  // namespace

std::string ErrnoName(int err) {
  for (const auto& entry : kErrnoNames) {
    if (entry.value == err) return entry.name;
  }
  return "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, const std::string& where, const char* syscall, int err,
                       const std::string& path) {
  std::string message = where + ": " + syscall + " failed: " + std::strerror(err);
  if (!path.empty()) message += " '" + path + "'";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) error.Set("path", Napi::String::New(env, path));
  return error;
}

Napi::Error CodedError(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

void RequireArgCount(const Napi::CallbackInfo& info, size_t count, const char* fn) {
  if (info.Length() != count) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": expected " + std::to_string(count) +
                                               " argument" + (count == 1 ? "" : "s") + ", got " +
                                               std::to_string(info.Length()));
  }
}

int RequireFd(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Value value = info[index];
  if (value.IsNumber()) {
    double number = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(number) && number >= 0 && number <= INT_MAX && std::floor(number) == number) {
      return static_cast<int>(number);
    }
  }
  throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a non-negative integer");
}

std::string RequirePath(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Value value = info[index];
  if (value.IsString()) {
    std::string text = value.As<Napi::String>().Utf8Value();
    if (!text.empty() && text.find('\0') == std::string::npos) return text;
  }
  throw Napi::TypeError::New(info.Env(),
                             std::string(fn) + ": " + name + " must be a non-empty string without NUL bytes");
}

}  // namespace pvctrl
