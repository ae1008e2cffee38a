// Shared helpers for every concern in the addon: argument checking and
// errno-carrying errors shaped like Node's fs errors, so TypeScript callers
// can branch on `.code` the same way for the JS and native paths.
#pragma once

#include <napi.h>

#include <string>

namespace pvctrl {

// Per-concern registration; addon_core.cpp or addon_lazy.cpp calls each one from its module init.
void InitPeerCreds(Napi::Env env, Napi::Object exports);
void InitSha256Ingest(Napi::Env env, Napi::Object exports);
void InitFdIngest(Napi::Env env, Napi::Object exports);
void InitLxcContainer(Napi::Env env, Napi::Object exports);
void InitKmodDrivers(Napi::Env env, Napi::Object exports);
void InitPidfdWatch(Napi::Env env, Napi::Object exports);
void InitSdNotify(Napi::Env env, Napi::Object exports);
void InitImagePageOut(Napi::Env env, Napi::Object exports);
void InitStreamWriter(Napi::Env env, Napi::Object exports);

// "ENOSPC" for ENOSPC, "E<number>" for anything the table does not know.
std::string ErrnoName(int err);

// Error whose message reads "<where>: <syscall> failed: <strerror>" and which
// carries Node-style `code`, `errno` (negative), `syscall` and, if given, `path`.
Napi::Error ErrnoError(Napi::Env env, const std::string& where, const char* syscall, int err,
                       const std::string& path = std::string());

// Plain JS Error carrying only a `code` property.
Napi::Error CodedError(Napi::Env env, const std::string& message, const char* code);

// Throws "<fn>: expected N argument(s), got M" unless exactly `count` were given.
void RequireArgCount(const Napi::CallbackInfo& info, size_t count, const char* fn);

// Returns info[index] as an int fd, throwing "<fn>: <name> must be a
// non-negative integer" for anything else (fractions, NaN, negatives, > INT_MAX).
int RequireFd(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);

// Returns info[index] as a std::string, throwing "<fn>: <name> must be a
// non-empty string without NUL bytes" otherwise (a NUL would silently truncate the path).
std::string RequirePath(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name);

}  // namespace pvctrl
