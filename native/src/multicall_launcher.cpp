// pv-ctrl's executable in dist/<target>/ (issue 10): a few KiB that executes the one
// runtime-sized file next to it, pvctrl-bun (the Bun runtime with pv-ctrl's program bundle),
// with Bun's exec-time settings in the environment.
//
//   pv-ctrl [ARGS...]       pvcontrol and pv-xconnect are symlinks to this file
//
// Why: Bun reads BUN_GC_TIMER_DISABLE once, when the runtime starts, from the environment and
// from nowhere else (no build flag, no API; `--env-file` is read too late). Without it Bun's GC
// timer wakes the daemon every second (issue 9), so a daemon started without the variable
// executes itself again to get it (src/util/runtime-env.ts): a second start of the runtime,
// about 40 ms of every boot. This file puts the variable in place before the one start, so
// that second exec never happens, for the cost of one exec of a small libc-only program.
//
// What it keeps: argv as given, argv[0] included, so the name it runs under (pvcontrol,
// pv-xconnect, pv-ctrl) and `pv-ctrl pvcontrol ...` still choose the program
// (src/multicall.ts); the process, since it is an exec and not a fork (same pid, so signals,
// exit status, the supervisor's pidfd and systemd's MAINPID all name the runtime); the
// caller's own value of each variable, whatever it is.
//
// The runtime is found next to this file's real path (/proc/self/exe, so through the
// symlinks), where the build puts it; the runtime in turn finds its addon next to itself.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr char kRuntimeName[] = "pvctrl-bun";

// Bun's settings the daemon needs at exec, name and default value. The same list as
// DAEMON_RUNTIME_ENV in src/util/runtime-env.ts (test/integration/multicall-launcher.test.ts
// checks that the runtime gets each of those).
constexpr const char* kRuntimeEnv[][2] = {
    {"BUN_GC_TIMER_DISABLE", "1"},
};

// The folder this executable really lives in, with a trailing '/'; false if it cannot be told.
bool OwnFolder(const char* argv0, char (&folder)[PATH_MAX]) {
  ssize_t length = readlink("/proc/self/exe", folder, sizeof folder - 1);
  if (length > 0) {
    folder[length] = '\0';
  } else if (argv0 == nullptr || std::strchr(argv0, '/') == nullptr || realpath(argv0, folder) == nullptr) {
    // Without /proc only a path in argv[0] tells where this file is (a bare name came from $PATH).
    return false;
  }
  char* slash = std::strrchr(folder, '/');
  if (slash == nullptr) return false;
  slash[1] = '\0';
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* name = argc > 0 && argv[0] != nullptr ? argv[0] : "pv-ctrl";
  char runtime[PATH_MAX];
  if (!OwnFolder(argc > 0 ? argv[0] : nullptr, runtime)) {
    std::fprintf(stderr, "%s: cannot tell which folder this executable is in (no /proc/self/exe)\n", name);
    return 127;
  }
  if (std::strlen(runtime) + sizeof kRuntimeName > sizeof runtime) {
    std::fprintf(stderr, "%s: path too long: %s%s\n", name, runtime, kRuntimeName);
    return 127;
  }
  std::strcat(runtime, kRuntimeName);

  for (const auto& setting : kRuntimeEnv) {
    // 0: a value the caller set (even empty) is the caller's choice and stays.
    if (setenv(setting[0], setting[1], 0) != 0) {
      std::fprintf(stderr, "%s: cannot set %s: %s\n", name, setting[0], std::strerror(errno));
      return 126;
    }
  }

  // argv is handed on whole; only a missing argv[0] (execve with an empty argv) gets a name.
  char* fallback[] = {const_cast<char*>(name), nullptr};
  execv(runtime, argc > 0 ? argv : fallback);
  const int error = errno;
  std::fprintf(stderr, "%s: cannot execute %s: %s\n", name, runtime, std::strerror(error));
  // The shell's convention: 127 not found, 126 found but not executable.
  return error == ENOENT ? 127 : 126;
}
