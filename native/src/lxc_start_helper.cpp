// pvctrl-lxc-start: starts one container daemonized and reports the result.
//
//   pvctrl-lxc-start <name> <lxcpath> <config-file> <report-fd> [-- <init argv>...]
//
// Spawned (posix_spawn) by native/src/lxc_container.cpp for every start. It
// exists because liblxc's daemonized start forks the calling process to make
// the container's monitor: forked from the daemon, every monitor would keep a
// copy-on-write snapshot of the whole runtime heap for the container's life
// (measured: ~200 MiB private per monitor once the daemon's heap moved on).
// Forked from this small process instead, a monitor costs about a megabyte.
// It also keeps the daemon out of the monitor's cgroup: liblxc moves the
// starting ("transient") process there, and this process exits right after.
//
// The config arrives as a file saved from the daemon's in-memory config; the
// result is written to <report-fd> as two ints {started, error_num}.
#include <lxc/lxccontainer.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

struct StartReport {
  int started;
  int errorNum;
};

void Report(int fd, int started, int errorNum) {
  const StartReport report{started, errorNum};
  while (::write(fd, &report, sizeof(report)) < 0 && errno == EINTR) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || (argc > 5 && std::strcmp(argv[5], "--") != 0) || argc == 6) {
    std::fprintf(stderr, "usage: %s <name> <lxcpath> <config-file> <report-fd> [-- <init argv>...]\n", argv[0]);
    return 2;
  }
  const char* name = argv[1];
  const char* lxcpath = argv[2];
  const char* config = argv[3];
  char* end = nullptr;
  const long reportFd = std::strtol(argv[4], &end, 10);
  if (end == argv[4] || *end != '\0' || reportFd < 0 || reportFd > 1024) {
    std::fprintf(stderr, "%s: bad report fd %s\n", argv[0], argv[4]);
    return 2;
  }
  const int fd = static_cast<int>(reportFd);

  lxc_container* c = lxc_container_new(name, lxcpath);
  if (c == nullptr) {
    Report(fd, 0, 1);
    return 1;
  }
  // lxc_container_new() already loaded <lxcpath>/<name>/config if present;
  // the daemon's saved config includes that and every override on top.
  c->clear_config(c);
  if (!c->load_config(c, config)) {
    Report(fd, 0, 1);
    return 1;
  }
  c->want_daemonize(c, true);
  c->want_close_all_fds(c, true);

  std::vector<char*> initArgv;
  for (int i = 6; i < argc; i++) initArgv.push_back(argv[i]);
  initArgv.push_back(nullptr);

  const bool started = c->start(c, 0, argc > 6 ? initArgv.data() : nullptr);
  Report(fd, started ? 1 : 0, c->error_num);
  // No lxc_container_put(): exiting releases everything, and the monitor
  // (a separate process by now) owns the running container.
  return started ? 0 : 1;
}
