// liblxc binding: one `LxcContainer` object per lxc_container reference.
//
// Everything that can block (start, shutdown, stop, wait) runs on a thread of
// its own (see LxcTask) that holds its own lxc_container reference and pins
// the JS wrapper, so release() or garbage collection while a task is in
// flight is safe. Quick command-socket queries (state, initPid, isRunning) and
// in-memory config edits stay synchronous.
//
// Starting: liblxc only allows daemonized starts from a threaded process,
// and a daemonized start fork()s the calling process to make the container's
// monitor. Called from the daemon, every monitor would be a copy-on-write
// snapshot of the whole runtime heap for as long as its container runs
// (measured ~200 MiB private per monitor after the daemon's heap moved on),
// and liblxc would also move the daemon itself into the monitor's cgroup
// (it treats the caller as the short-lived lxc-start process). So each start
// posix_spawn()s the small pvctrl-lxc-start helper (lxc_start_helper.cpp)
// with a clean signal state; the helper loads the config saved from memory,
// starts the container, reports through a pipe and exits, and the monitor it
// leaves behind is reparented to init. Nothing in this file forks.
#include <fcntl.h>
#include <lxc/lxccontainer.h>
#include <lxc/version.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "napi_util.h"
#include "own_thread_task.h"

namespace pvctrl {

namespace {

// What pvctrl-lxc-start reports (same layout there); one write < PIPE_BUF.
struct StartReport {
  int started;
  int errorNum;
};

const char* const kStates[] = {"STOPPED",  "STARTING", "RUNNING", "STOPPING",
                               "ABORTING", "FREEZING", "FROZEN",  "THAWED"};

// Keeps the start error readable: the first lines are the cause, later ones
// ("Failed to spawn container", "Received state ABORTING") are fallout.
constexpr size_t kMaxReasonLines = 4;
// A failing start writes a few KiB at most at the default level; reading
// more than this from the offset only happens at TRACE level.
constexpr off_t kMaxLogScan = 1 << 20;

std::string Quote(const std::string& text) { return "\"" + text + "\""; }

std::string Where(const char* op, const std::string& name) { return std::string("lxc ") + op + " " + Quote(name); }

bool HasControlOrSpace(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char ch) {
    const auto byte = static_cast<unsigned char>(ch);
    return byte <= 0x20 || byte == 0x7f;
  });
}

// The name becomes a cgroup directory (lxc/<name>), an abstract socket path
// and a config value, so anything that could split or escape those is refused.
void ValidateName(Napi::Env env, const std::string& name) {
  if (name.empty() || name.size() > 200 || name == "." || name == ".." || name.find('/') != std::string::npos ||
      HasControlOrSpace(name)) {
    throw Napi::TypeError::New(env, "openLxcContainer: invalid container name " + Quote(name) +
                                        " (1-200 bytes, no '/', whitespace or control characters, not . or ..)");
  }
}

std::string RequireString(const Napi::CallbackInfo& info, size_t index, const char* where, const char* what) {
  if (index >= info.Length() || !info[index].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(where) + ": " + what + " must be a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

// A '\n' in a value would survive set_config_item but split the line when
// the config is saved, so the saved file would no longer match memory.
std::string RequireConfigValue(const Napi::CallbackInfo& info, size_t index, const std::string& where) {
  std::string value = RequireString(info, index, where.c_str(), "value");
  if (value.find('\0') != std::string::npos || value.find('\n') != std::string::npos) {
    throw Napi::TypeError::New(info.Env(), where + ": value must not contain NUL or newline characters");
  }
  return value;
}

std::string RequireConfigKey(const Napi::CallbackInfo& info, size_t index, const std::string& where) {
  std::string key = RequireString(info, index, where.c_str(), "key");
  if (key.empty() || HasControlOrSpace(key) || key.find('=') != std::string::npos) {
    throw Napi::TypeError::New(info.Env(), where + ": key must be a non-empty config key without whitespace or '='");
  }
  // No lxc_config_item_is_supported() pre-check: it matches keys exactly and
  // so refuses indexed ones such as lxc.net.0.type.
  return key;
}

int RequireSeconds(const Napi::CallbackInfo& info, size_t index, const std::string& where, const char* what) {
  if (index < info.Length() && info[index].IsNumber()) {
    const double number = info[index].As<Napi::Number>().DoubleValue();
    if (std::isfinite(number) && number >= 0 && number <= INT_MAX && std::floor(number) == number) {
      return static_cast<int>(number);
    }
  }
  throw Napi::TypeError::New(info.Env(), where + ": " + what + " must be a non-negative integer number of seconds");
}

off_t FileSize(const std::string& path) {
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return 0;
  return st.st_size;
}

bool IsSevereLevel(const std::string& level) {
  return level == "ERROR" || level == "CRIT" || level == "ALERT" || level == "FATAL";
}

// Pulls the messages of ERROR-or-worse lines written since `offset`. A line
// reads "<prefix> [<name>] <timestamp> <LEVEL> <category> - <file>:<func>:<line> - <message>";
// the name is missing when liblxc logs for an API caller rather than a tool.
std::vector<std::string> ReadLogErrors(const std::string& path, off_t offset) {
  static const char* const kLevels[] = {"TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "ALERT", "FATAL"};
  std::vector<std::string> messages;
  if (path.empty()) return messages;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return messages;
  const off_t size = FileSize(path);
  if (size - offset > kMaxLogScan) offset = size - kMaxLogScan;
  if (offset < 0 || offset > size) offset = 0;
  std::string text(static_cast<size_t>(size - offset), '\0');
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::pread(fd, &text[got], text.size() - got, offset + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);

  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    // The level is the first of the leading fields that names one.
    std::string level;
    size_t pos = 0;
    for (int field = 0; field < 4 && level.empty(); field++) {
      pos = line.find_first_not_of(' ', pos);
      if (pos == std::string::npos) break;
      size_t stop = line.find(' ', pos);
      if (stop == std::string::npos) stop = line.size();
      const std::string token = line.substr(pos, stop - pos);
      if (std::any_of(std::begin(kLevels), std::end(kLevels), [&](const char* known) { return token == known; })) {
        level = token;
      }
      pos = stop;
    }
    if (!IsSevereLevel(level)) continue;
    const size_t first = line.find(" - ", pos);
    const size_t second = first == std::string::npos ? std::string::npos : line.find(" - ", first + 3);
    std::string message = second == std::string::npos ? line.substr(std::min(pos + 1, line.size())) : line.substr(second + 3);
    if (std::find(messages.begin(), messages.end(), message) == messages.end()) messages.push_back(message);
  }
  return messages;
}

std::string JoinReason(const std::vector<std::string>& messages) {
  std::string out;
  for (size_t i = 0; i < messages.size() && i < kMaxReasonLines; i++) {
    if (!out.empty()) out += "; ";
    out += messages[i];
  }
  if (messages.size() > kMaxReasonLines) out += "; …";
  return out;
}

std::string DescribeStatus(int status) {
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return "status unknown";
}

// lxc_container::wait() with timeout 0 is documented as "do not wait", but
// liblxc turns it into SO_RCVTIMEO = 0 on the state socket, which blocks
// forever when the state is not reached yet. Answer 0 from the current state.
bool WaitForState(lxc_container* c, const char* state, int timeout) {
  if (timeout == 0) {
    const char* now = c->state(c);
    return now != nullptr && std::strcmp(now, state) == 0;
  }
  return c->wait(c, state, timeout);
}

class LxcContainer;

// Base for the blocking operations: each one runs on a thread of its own
// (OwnThreadTask, see docs/native-threads.md). Measured with napi async work
// instead: a shutdown waiting 30 s for a container stalls every sha256/ingest
// task queued behind it (a tiny sha256File took 3.9 s while eight 2-s waits
// ran).
//
// A task owns an lxc_container reference for its whole life and pins the JS
// wrapper, so release() or garbage collection in the meantime is harmless.
class LxcTask : public OwnThreadTask {
 public:
  LxcTask(Napi::Env env, const char* resource, Napi::Object owner, lxc_container* c, std::string name)
      : OwnThreadTask(env), owner_(Napi::Persistent(owner)), resource_(resource), c_(c), name_(std::move(name)) {
    lxc_container_get(c_);
  }

  ~LxcTask() override { lxc_container_put(c_); }

  // Takes ownership of `task`; it is deleted on the JS thread once settled.
  static Napi::Promise Queue(Napi::Env env, LxcTask* task) {
    return OwnThreadTask::Queue(env, task, task->resource_, "pvctrl-lxc");
  }

 protected:
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  virtual void Finished() {}

  void Fail(const char* op, const std::string& reason, const char* code) {
    failure_ = Where(op, name_) + ": " + reason;
    code_ = code;
  }

  void Failed(const std::string& reason) override {
    failure_ = Where(resource_, name_) + ": " + reason;
    code_ = "ERR_LXC_INTERNAL";
  }

  Napi::ObjectReference owner_;  // keeps the wrapper (and its state) alive
  const char* resource_;         // operation name for messages ("start", ...)
  lxc_container* c_;
  const std::string name_;
  std::string failure_;
  const char* code_ = "";
  std::string logFile_;
  int errorNum_ = 0;

 private:
  void Settle(Napi::Env env) override {
    Finished();
    if (!failure_.empty()) {
      Napi::Error error = CodedError(env, failure_, code_);
      if (!logFile_.empty()) error.Set("logFile", Napi::String::New(env, logFile_));
      if (errorNum_ != 0) error.Set("errorNum", Napi::Number::New(env, errorNum_));
      deferred_.Reject(error.Value());
      return;
    }
    deferred_.Resolve(Result(env));
  }
};

class LxcContainer : public Napi::ObjectWrap<LxcContainer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LxcContainer",
                       {
                           InstanceAccessor<&LxcContainer::Name>("name"),
                           InstanceAccessor<&LxcContainer::LxcPath>("lxcPath"),
                           InstanceMethod<&LxcContainer::LoadConfig>("loadConfig"),
                           InstanceMethod<&LxcContainer::SetConfigItem>("setConfigItem"),
                           InstanceMethod<&LxcContainer::ClearConfigItem>("clearConfigItem"),
                           InstanceMethod<&LxcContainer::GetConfigItem>("getConfigItem"),
                           InstanceMethod<&LxcContainer::SaveConfig>("saveConfig"),
                           InstanceMethod<&LxcContainer::Start>("start"),
                           InstanceMethod<&LxcContainer::Shutdown>("shutdown"),
                           InstanceMethod<&LxcContainer::Stop>("stop"),
                           InstanceMethod<&LxcContainer::State>("state"),
                           InstanceMethod<&LxcContainer::InitPid>("initPid"),
                           InstanceMethod<&LxcContainer::IsRunning>("isRunning"),
                           InstanceMethod<&LxcContainer::Wait>("wait"),
                           InstanceMethod<&LxcContainer::Release>("release"),
                       });
  }

  explicit LxcContainer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<LxcContainer>(info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 2, "openLxcContainer");
    name_ = RequireString(info, 0, "openLxcContainer", "name");
    ValidateName(env, name_);
    lxcPath_ = RequirePath(info, 1, "openLxcContainer", "lxcPath");
    if (lxcPath_[0] != '/' || HasControlOrSpace(lxcPath_)) {
      throw Napi::TypeError::New(env, "openLxcContainer: lxcPath must be an absolute path without whitespace or control characters");
    }
    c_ = lxc_container_new(name_.c_str(), lxcPath_.c_str());
    if (c_ == nullptr) {
      throw CodedError(env, Where("open", name_) + ": lxc_container_new failed for lxcPath " + Quote(lxcPath_),
                       "ERR_LXC_OPEN");
    }
    // Daemonized is the only mode liblxc allows from a threaded process, and
    // it is what lets containers outlive a daemon restart. Closing all fds
    // keeps our sockets, epoll and pidfds out of the monitor and the container.
    c_->want_daemonize(c_, true);
    c_->want_close_all_fds(c_, true);
  }

  ~LxcContainer() override {
    if (c_ != nullptr) lxc_container_put(c_);
  }

  void StartFinished() { starting_ = false; }

 private:
  lxc_container* Require(Napi::Env env, const char* op) {
    if (c_ == nullptr) throw CodedError(env, Where(op, name_) + ": handle already released", "ERR_LXC_RELEASED");
    return c_;
  }

  // start() snapshots the config on its thread (save_config) for the helper;
  // an edit racing with that would or would not make it into the started
  // container depending on timing, so config calls wait for start to settle.
  void RequireIdle(Napi::Env env, const char* op) {
    if (starting_) throw CodedError(env, Where(op, name_) + ": not allowed while start() is in progress", "ERR_LXC_BUSY");
  }

  Napi::Value Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value LxcPath(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), lxcPath_); }

  Napi::Value LoadConfig(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "loadConfig");
    const std::string path = RequirePath(info, 0, "loadConfig", "path");
    lxc_container* c = Require(env, "loadConfig");
    RequireIdle(env, "loadConfig");
    // liblxc's own failure says nothing about why; a missing file is the
    // common case and deserves a real errno.
    if (::access(path.c_str(), R_OK) != 0) throw ErrnoError(env, Where("loadConfig", name_), "access", errno, path);
    if (!c->load_config(c, path.c_str())) {
      throw CodedError(env, Where("loadConfig", name_) + ": cannot parse " + Quote(path) + " (see lxc.log.file)",
                       "ERR_LXC_CONFIG");
    }
    return env.Undefined();
  }

  Napi::Value SetConfigItem(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 2, "setConfigItem");
    const std::string where = Where("setConfigItem", name_);
    const std::string key = RequireConfigKey(info, 0, where);
    const std::string value = RequireConfigValue(info, 1, where);
    lxc_container* c = Require(env, "setConfigItem");
    RequireIdle(env, "setConfigItem");
    if (!c->set_config_item(c, key.c_str(), value.c_str())) {
      throw CodedError(env, where + ": liblxc rejected " + key + " = " + Quote(value) + " (unknown key or invalid value)",
                       "ERR_LXC_CONFIG");
    }
    return env.Undefined();
  }

  Napi::Value ClearConfigItem(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "clearConfigItem");
    const std::string where = Where("clearConfigItem", name_);
    const std::string key = RequireConfigKey(info, 0, where);
    lxc_container* c = Require(env, "clearConfigItem");
    RequireIdle(env, "clearConfigItem");
    if (!c->clear_config_item(c, key.c_str())) {
      throw CodedError(env, where + ": liblxc cannot clear " + Quote(key) + " (unknown key?)", "ERR_LXC_CONFIG");
    }
    return env.Undefined();
  }

  Napi::Value GetConfigItem(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "getConfigItem");
    const std::string where = Where("getConfigItem", name_);
    const std::string key = RequireConfigKey(info, 0, where);
    lxc_container* c = Require(env, "getConfigItem");
    RequireIdle(env, "getConfigItem");
    const int length = c->get_config_item(c, key.c_str(), nullptr, 0);
    if (length < 0) throw CodedError(env, where + ": liblxc cannot read " + Quote(key) + " (unknown key?)", "ERR_LXC_CONFIG");
    if (length == 0) return env.Undefined();
    std::string value(static_cast<size_t>(length) + 1, '\0');
    const int got = c->get_config_item(c, key.c_str(), &value[0], length + 1);
    if (got < 0) throw CodedError(env, where + ": liblxc cannot read " + Quote(key), "ERR_LXC_CONFIG");
    value.resize(static_cast<size_t>(std::min(got, length)));
    if (value.empty()) return env.Undefined();
    return Napi::String::New(env, value);
  }

  Napi::Value SaveConfig(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "saveConfig");
    const std::string path = RequirePath(info, 0, "saveConfig", "path");
    lxc_container* c = Require(env, "saveConfig");
    RequireIdle(env, "saveConfig");
    if (!c->save_config(c, path.c_str())) {
      throw CodedError(env, Where("saveConfig", name_) + ": cannot write " + Quote(path), "ERR_LXC_CONFIG");
    }
    return env.Undefined();
  }

  Napi::Value Start(const Napi::CallbackInfo& info);
  Napi::Value Shutdown(const Napi::CallbackInfo& info);
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Wait(const Napi::CallbackInfo& info);

  Napi::Value State(const Napi::CallbackInfo& info) {
    lxc_container* c = Require(info.Env(), "state");
    const char* state = c->state(c);
    return Napi::String::New(info.Env(), state != nullptr ? state : "STOPPED");
  }

  Napi::Value InitPid(const Napi::CallbackInfo& info) {
    lxc_container* c = Require(info.Env(), "initPid");
    const pid_t pid = c->init_pid(c);
    return Napi::Number::New(info.Env(), pid > 0 ? pid : -1);
  }

  Napi::Value IsRunning(const Napi::CallbackInfo& info) {
    lxc_container* c = Require(info.Env(), "isRunning");
    return Napi::Boolean::New(info.Env(), c->is_running(c));
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    // In-flight tasks hold their own reference, so this never frees under them.
    if (c_ != nullptr) {
      lxc_container_put(c_);
      c_ = nullptr;
    }
    return info.Env().Undefined();
  }

  lxc_container* c_ = nullptr;
  std::string name_;
  std::string lxcPath_;
  bool starting_ = false;
};

// Every catchable signal, including the libc-internal ones (32, 33) that
// sigfillset()/sigaddset() refuse. posix_spawn() sets signals missing from
// the "default" set to SIG_IGN in the child when the parent handles them, and
// an ignored disposition survives exec: without the raw bits the helper, the
// monitor and the container's init would all start with 32 and 33 ignored.
// sigset_t is an array of unsigned long holding signal n at bit n-1 on
// Linux (glibc and musl alike).
sigset_t EverySignal() {
  sigset_t set;
  sigemptyset(&set);
  auto* words = reinterpret_cast<unsigned long*>(&set);
  constexpr int kBits = 8 * sizeof(unsigned long);
  for (int sig = 1; sig < NSIG && (sig - 1) / kBits < static_cast<int>(sizeof(set) / sizeof(unsigned long)); sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    words[(sig - 1) / kBits] |= 1UL << ((sig - 1) % kBits);
  }
  return set;
}

// Moves an fd to >= 10 (close-on-exec) so the dup2() file actions onto 3
// and 4 can never clobber each other or stdio.
int HighFd(int fd) {
  if (fd < 0 || fd >= 10) return fd;
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  const int err = errno;
  ::close(fd);
  errno = err;
  return high;
}

class StartTask : public LxcTask {
 public:
  StartTask(Napi::Env env, Napi::Object owner, LxcContainer* wrapper, lxc_container* c, std::string name,
            std::string lxcPath, std::string helper, std::vector<std::string> argv, std::string logFile)
      : LxcTask(env, "start", owner, c, std::move(name)),
        wrapper_(wrapper),
        lxcPath_(std::move(lxcPath)),
        helper_(std::move(helper)),
        argv_(std::move(argv)) {
    logFile_ = std::move(logFile);
  }

  void Execute() override {
    if (c_->is_running(c_)) {
      Fail("start", "already running (init pid " + std::to_string(c_->init_pid(c_)) + ")", "ERR_LXC_ALREADY_RUNNING");
      logFile_.clear();
      return;
    }
    const off_t logOffset = FileSize(logFile_);
    StartReport report{0, 0};
    int status = 0;
    if (!RunHelper(report, status)) return;
    if (report.started) return;

    errorNum_ = report.errorNum;
    std::string reason = JoinReason(ReadLogErrors(logFile_, logOffset));
    if (reason.empty()) {
      reason = logFile_.empty() ? "liblxc reported failure (set lxc.log.file to see why)"
                                : "liblxc reported failure with nothing at ERROR level in " + logFile_;
    }
    Fail("start", reason, "ERR_LXC_START");
  }

 protected:
  void Finished() override { wrapper_->StartFinished(); }

 private:
  // Saves the config into a memfd, spawns the helper on it and collects the
  // report. Returns false after Fail() when the helper could not do its job.
  bool RunHelper(StartReport& report, int& status) {
    int config = HighFd(::memfd_create("pvctrl-lxc-config", MFD_CLOEXEC));
    if (config < 0) return Errno("memfd_create");
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) {
      ::close(config);
      return Errno("pipe2");
    }
    const int readEnd = HighFd(pipefd[0]);
    const int writeEnd = HighFd(pipefd[1]);
    auto closeAll = [&] {
      for (int fd : {config, readEnd, writeEnd})
        if (fd >= 0) ::close(fd);
    };
    if (readEnd < 0 || writeEnd < 0) {
      const int err = errno;
      closeAll();
      errno = err;
      return Errno("fcntl");
    }
    // save_config() writes liblxc's unexpanded config: every line loaded
    // plus every set/clear since, includes kept as lxc.include lines.
    const std::string configPath = "/proc/self/fd/" + std::to_string(config);
    if (!c_->save_config(c_, configPath.c_str())) {
      closeAll();
      Fail("start", "cannot serialise the config for " + helper_, "ERR_LXC_START");
      return false;
    }

    std::vector<std::string> args = {helper_, name_, lxcPath_, "/proc/self/fd/3", "4"};
    if (!argv_.empty()) {
      args.push_back("--");
      args.insert(args.end(), argv_.begin(), argv_.end());
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(&arg[0]);
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, config, 3);
    posix_spawn_file_actions_adddup2(&actions, writeEnd, 4);
    // The runtime ignores SIGPIPE and blocks signals on its threads; the
    // monitor and the container's init would inherit both through liblxc.
    sigset_t none;
    sigemptyset(&none);
    const sigset_t all = EverySignal();
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, helper_.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(config);
    ::close(writeEnd);
    if (spawned != 0) {
      ::close(readEnd);
      errno = spawned;
      return Errno(("posix_spawn " + helper_).c_str());
    }

    // The report, not the exit status, carries the result: the runtime may
    // reap children it did not spawn itself, and then waitpid() sees ECHILD.
    ssize_t got;
    do {
      got = ::read(readEnd, &report, sizeof(report));
    } while (got < 0 && errno == EINTR);
    ::close(readEnd);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got != static_cast<ssize_t>(sizeof(report))) {
      Fail("start", helper_ + " died before reporting (" + DescribeStatus(status) + ")", "ERR_LXC_START");
      return false;
    }
    return true;
  }

  bool Errno(const std::string& call) {
    Fail("start", call + " failed: " + std::strerror(errno), "ERR_LXC_START");
    return false;
  }

  LxcContainer* wrapper_;  // alive: owner_ pins its JS object
  const std::string lxcPath_;
  const std::string helper_;
  std::vector<std::string> argv_;
};

Napi::Value LxcContainer::Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || info.Length() > 2) {
    throw Napi::TypeError::New(env, "start: expected 1 or 2 arguments, got " + std::to_string(info.Length()));
  }
  const std::string where = Where("start", name_);
  const std::string helper = RequirePath(info, 0, "start", "helper");
  if (helper[0] != '/') throw Napi::TypeError::New(env, where + ": helper must be an absolute path");
  std::vector<std::string> argv;
  if (info.Length() == 2 && !info[1].IsUndefined()) {
    if (!info[1].IsArray()) throw Napi::TypeError::New(env, where + ": argv must be an array of strings");
    Napi::Array array = info[1].As<Napi::Array>();
    if (array.Length() == 0) throw Napi::TypeError::New(env, where + ": argv must not be empty");
    for (uint32_t i = 0; i < array.Length(); i++) {
      Napi::Value item = array.Get(i);
      if (!item.IsString()) throw Napi::TypeError::New(env, where + ": argv[" + std::to_string(i) + "] must be a string");
      std::string arg = item.As<Napi::String>().Utf8Value();
      if (arg.find('\0') != std::string::npos) {
        throw Napi::TypeError::New(env, where + ": argv[" + std::to_string(i) + "] contains a NUL byte");
      }
      argv.push_back(std::move(arg));
    }
    if (argv[0].empty() || argv[0][0] != '/') {
      throw Napi::TypeError::New(env, where + ": argv[0] must be an absolute path inside the container");
    }
  }
  lxc_container* c = Require(env, "start");
  if (starting_) throw CodedError(env, where + ": start() already in progress", "ERR_LXC_BUSY");

  std::string logFile;
  const int length = c->get_config_item(c, "lxc.log.file", nullptr, 0);
  if (length > 0) {
    logFile.assign(static_cast<size_t>(length) + 1, '\0');
    const int got = c->get_config_item(c, "lxc.log.file", &logFile[0], length + 1);
    logFile.resize(got > 0 ? static_cast<size_t>(std::min(got, length)) : 0);
  }

  auto* task = new StartTask(env, Value(), this, c, name_, lxcPath_, helper, std::move(argv), std::move(logFile));
  starting_ = true;
  return LxcTask::Queue(env, task);
}

class ShutdownTask : public LxcTask {
 public:
  ShutdownTask(Napi::Env env, Napi::Object owner, lxc_container* c, std::string name, int timeout)
      : LxcTask(env, "shutdown", owner, c, std::move(name)), timeout_(timeout) {}

  void Execute() override {
    // shutdown() also answers true when it merely delivered the signal with
    // timeout 0; the caller asked whether the container is down.
    c_->shutdown(c_, timeout_);
    stopped_ = !c_->is_running(c_);
  }

 protected:
  Napi::Value Result(Napi::Env env) override { return Napi::Boolean::New(env, stopped_); }

 private:
  const int timeout_;
  bool stopped_ = false;
};

Napi::Value LxcContainer::Shutdown(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 1, "shutdown");
  const int timeout = RequireSeconds(info, 0, Where("shutdown", name_), "timeoutSeconds");
  lxc_container* c = Require(env, "shutdown");
  auto* task = new ShutdownTask(env, Value(), c, name_, timeout);
  return LxcTask::Queue(env, task);
}

class StopTask : public LxcTask {
 public:
  StopTask(Napi::Env env, Napi::Object owner, lxc_container* c, std::string name, int timeout)
      : LxcTask(env, "stop", owner, c, std::move(name)), timeout_(timeout) {}

  void Execute() override {
    // stop() returns once the monitor accepted the request (or true when the
    // container is not running); the monitor then kills init, removes the
    // cgroups and only afterwards reports STOPPED, so wait for that.
    if (!c_->stop(c_) && c_->is_running(c_)) {
      Fail("stop", "the monitor refused the stop request", "ERR_LXC_STOP");
      return;
    }
    if (!WaitForState(c_, "STOPPED", timeout_)) {
      const char* state = c_->state(c_);
      Fail("stop", "not STOPPED after " + std::to_string(timeout_) + "s (state " + (state != nullptr ? state : "?") + ")",
           "ERR_LXC_STOP");
    }
  }

 private:
  const int timeout_;
};

// Killing is immediate; the default only bounds a monitor that hangs in
// cleanup (e.g. a process stuck in D state keeps the cgroup busy).
constexpr int kDefaultStopTimeout = 30;

Napi::Value LxcContainer::Stop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() > 1) throw Napi::TypeError::New(env, "stop: expected 0 or 1 arguments, got " + std::to_string(info.Length()));
  int timeout = kDefaultStopTimeout;
  if (info.Length() == 1 && !info[0].IsUndefined()) timeout = RequireSeconds(info, 0, Where("stop", name_), "timeoutSeconds");
  lxc_container* c = Require(env, "stop");
  auto* task = new StopTask(env, Value(), c, name_, timeout);
  return LxcTask::Queue(env, task);
}

class WaitTask : public LxcTask {
 public:
  WaitTask(Napi::Env env, Napi::Object owner, lxc_container* c, std::string name, std::string state, int timeout)
      : LxcTask(env, "wait", owner, c, std::move(name)), state_(std::move(state)), timeout_(timeout) {}

  void Execute() override { reached_ = WaitForState(c_, state_.c_str(), timeout_); }

 protected:
  Napi::Value Result(Napi::Env env) override { return Napi::Boolean::New(env, reached_); }

 private:
  const std::string state_;
  const int timeout_;
  bool reached_ = false;
};

Napi::Value LxcContainer::Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 2, "wait");
  const std::string where = Where("wait", name_);
  const std::string state = RequireString(info, 0, where.c_str(), "state");
  if (std::none_of(std::begin(kStates), std::end(kStates), [&](const char* known) { return state == known; })) {
    throw Napi::TypeError::New(env, where + ": unknown state " + Quote(state) +
                                        " (STOPPED, STARTING, RUNNING, STOPPING, ABORTING, FREEZING, FROZEN, THAWED)");
  }
  const int timeout = RequireSeconds(info, 1, where, "timeoutSeconds");
  lxc_container* c = Require(env, "wait");
  auto* task = new WaitTask(env, Value(), c, name_, state, timeout);
  return LxcTask::Queue(env, task);
}

Napi::Value LxcVersion(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), lxc_get_version()); }

Napi::Value LxcConfigItemSupported(const Napi::CallbackInfo& info) {
  RequireArgCount(info, 1, "lxcConfigItemSupported");
  const std::string key = RequireString(info, 0, "lxcConfigItemSupported", "key");
  return Napi::Boolean::New(info.Env(), !key.empty() && lxc_config_item_is_supported(key.c_str()));
}

}  // namespace

void InitLxcContainer(Napi::Env env, Napi::Object exports) {
  exports.Set("LxcContainer", LxcContainer::Define(env));
  exports.Set("lxcVersion", Napi::Function::New(env, LxcVersion, "lxcVersion"));
  exports.Set("lxcConfigItemSupported", Napi::Function::New(env, LxcConfigItemSupported, "lxcConfigItemSupported"));
}

}  // namespace pvctrl
