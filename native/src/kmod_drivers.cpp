// libkmod binding: resolve module names and aliases, compute the plan modprobe
// would carry out for `modprobe <spec>` / `modprobe -r <name>`, and carry it out.
//
// Every call builds its own kmod_ctx and drops it before returning. A kmod_ctx
// is not thread-safe and caches what it read (dependency lines, module state),
// so sharing one between the main thread (resolve, plan) and the task threads
// (insert, remove) would need a lock held across init_module(), which can take
// seconds; a context costs one parse of the modprobe.d files, and drivers are
// loaded rarely.
//
// insert and remove run on a thread of their own (OwnThreadTask, see
// docs/native-threads.md), not on the runtime's shared pool: init_module() of
// a driver waiting for firmware, or a modprobe.d command, can take seconds.
// A modprobe.d install/remove command is killed after options.commandTimeoutMs.
//
// libkmod reports what kmod_module_probe_insert_module() does only through a
// print_action callback without a user-data pointer, so the operation in
// progress on a thread is reachable through a thread_local. The same callback
// records dry runs (plan) and real inserts, so a plan is exactly what libkmod
// would do, not a re-implementation of its probe logic.
#include <libkmod.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "napi_util.h"
#include "own_thread_task.h"

extern char** environ;

namespace pvctrl {

namespace {

// Module strings come from a state JSON; anything longer is a mistake, and
// libkmod copies options into fixed PATH_MAX buffers in places.
constexpr size_t kMaxSpecLength = 4096;
// libkmod logs a line per failed lookup step; a handful explains any failure.
constexpr size_t kMaxLogLines = 16;
// modprobe.d commands are short shell snippets (often a modprobe of their
// own); a minute is generous for them and still bounds a hung one.
constexpr int64_t kDefaultCommandTimeoutMs = 60 * 1000;
constexpr int64_t kMaxCommandTimeoutMs = 24LL * 60 * 60 * 1000;
// After SIGKILL a command goes away at once unless it sits in an
// uninterruptible syscall; this bounds the wait for that.
constexpr int64_t kKillGraceMs = 5 * 1000;

struct Options {
  std::string moduleDir;
  bool systemConfig = true;
  std::vector<std::string> configPaths;
  bool ignoreCommands = false;
  int64_t commandTimeoutMs = kDefaultCommandTimeoutMs;
};

struct Step {
  std::string action;
  std::string module;
  bool hasPath = false;
  std::string path;
  std::string options;
  std::string role;
  std::string command;
};

struct Failure {
  int err = 0;
  std::string module;
  std::string reason;
  std::string syscall;
};

// State of the operation running on this thread (see file comment).
struct Operation {
  std::vector<Step> steps;
  std::vector<std::string> log;
  std::set<std::string> recorded;
  std::string target;
  std::set<std::string> dependencies;
  std::string lastModule;
  // Why the last install/remove command failed; libkmod only passes an errno on.
  std::string commandReason;
  Failure failure;
  bool failed = false;

  void Fail(int err, std::string module, std::string reason, std::string syscall) {
    if (failed) return;
    failed = true;
    failure = Failure{err, std::move(module), std::move(reason), std::move(syscall)};
  }
};

thread_local Operation* tlsOperation = nullptr;

// Scopes tlsOperation to one call so a stale pointer can never be reached.
class OperationScope {
 public:
  explicit OperationScope(Operation& operation) : previous_(tlsOperation) { tlsOperation = &operation; }
  ~OperationScope() { tlsOperation = previous_; }
  OperationScope(const OperationScope&) = delete;
  OperationScope& operator=(const OperationScope&) = delete;

 private:
  Operation* previous_;
};

// libkmod writes to stderr by default; the daemon's log is the place, and only
// when something failed, so lines are kept with the operation instead.
void CaptureLog(void*, int, const char*, int, const char*, const char* format, va_list args) {
  Operation* operation = tlsOperation;
  if (operation == nullptr || operation->log.size() >= kMaxLogLines) return;
  char line[512];
  vsnprintf(line, sizeof(line), format, args);
  std::string text(line);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  operation->log.push_back(std::move(text));
}

std::string KmodErrnoName(int err) {
  // Errors init_module()/delete_module() return that the shared table lacks.
  switch (err) {
    case ENOEXEC: return "ENOEXEC";
    case ENOKEY: return "ENOKEY";
    case EKEYREJECTED: return "EKEYREJECTED";
    case EBADMSG: return "EBADMSG";
    default: return ErrnoName(err);
  }
}

class Context {
 public:
  explicit Context(const Options& options) {
    std::vector<const char*> paths;
    for (const auto& path : options.configPaths) paths.push_back(path.c_str());
    paths.push_back(nullptr);
    ctx_ = kmod_new(options.moduleDir.c_str(), options.systemConfig ? nullptr : paths.data());
    if (ctx_ != nullptr) {
      kmod_set_log_fn(ctx_, CaptureLog, nullptr);
      // kmod_new() reads KMOD_LOG from the environment; errors are all we report.
      kmod_set_log_priority(ctx_, 3 /* LOG_ERR */);
    }
  }
  ~Context() {
    if (ctx_ != nullptr) kmod_unref(ctx_);
  }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  kmod_ctx* get() const { return ctx_; }

 private:
  kmod_ctx* ctx_ = nullptr;
};

class ModuleList {
 public:
  ModuleList() = default;
  explicit ModuleList(kmod_list* list) : list_(list) {}
  ~ModuleList() {
    if (list_ != nullptr) kmod_module_unref_list(list_);
  }
  ModuleList(const ModuleList&) = delete;
  ModuleList& operator=(const ModuleList&) = delete;
  kmod_list** out() { return &list_; }
  kmod_list* get() const { return list_; }

  // Modules in list order, each with a reference the caller must drop.
  std::vector<kmod_module*> Modules(bool reverse = false) const {
    std::vector<kmod_module*> modules;
    if (reverse) {
      for (kmod_list* l = kmod_list_last(list_); l != nullptr; l = kmod_list_prev(list_, l)) modules.push_back(kmod_module_get_module(l));
    } else {
      for (kmod_list* l = list_; l != nullptr; l = kmod_list_next(list_, l)) modules.push_back(kmod_module_get_module(l));
    }
    return modules;
  }

 private:
  kmod_list* list_ = nullptr;
};

void UnrefAll(std::vector<kmod_module*>& modules) {
  for (kmod_module* module : modules) kmod_module_unref(module);
  modules.clear();
}

std::string Str(const char* text) { return text == nullptr ? std::string() : std::string(text); }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// "name opt=1 opt2" as REF hands it to modprobe: the first word names the
// module, the remaining words are its options, joined by single spaces the way
// modprobe joins its argv.
std::pair<std::string, std::string> SplitSpec(const std::string& spec) {
  std::vector<std::string> words;
  std::string word;
  for (char c : spec) {
    if (IsSpace(c)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  if (words.empty()) return {};
  std::string options;
  for (size_t i = 1; i < words.size(); i++) {
    if (!options.empty()) options.push_back(' ');
    options += words[i];
  }
  return {words[0], options};
}

// libkmod without its index only says "could not open moddep file" in its log
// and then fails alias lookups with ENOSYS; name the real problem instead.
bool CheckIndex(Operation& op, const Options& options, const std::string& name) {
  const std::string index = options.moduleDir + "/modules.dep.bin";
  struct stat st {};
  if (stat(index.c_str(), &st) == 0) return true;
  const int err = errno;
  op.Fail(err, name, "no module index " + index + " (" + std::strerror(err) + "; run depmod)", "stat");
  return false;
}

// kmod_module_new_from_lookup(): modprobe.d aliases, modules.dep names,
// symbols, install/remove commands, modules.alias (wildcards), built-ins.
bool Lookup(Operation& op, const Options& options, kmod_ctx* ctx, const std::string& name, ModuleList& list) {
  if (!CheckIndex(op, options, name)) return false;
  const int err = kmod_module_new_from_lookup(ctx, name.c_str(), list.out());
  if (err < 0) {
    op.Fail(-err, name, std::string("lookup failed: ") + std::strerror(-err), "kmod_module_new_from_lookup");
    return false;
  }
  if (list.get() == nullptr) {
    op.Fail(ENOENT, name, "module not found in " + options.moduleDir, "kmod_module_new_from_lookup");
    return false;
  }
  return true;
}

Step MakeStep(const char* action, kmod_module* module, const std::string& options, const std::string& role) {
  Step step;
  step.action = action;
  step.module = Str(kmod_module_get_name(module));
  const char* path = kmod_module_get_path(module);
  step.hasPath = path != nullptr;
  step.path = Str(path);
  step.options = options;
  step.role = role;
  return step;
}

void RecordAction(kmod_module* module, bool install, const char* options) {
  Operation* op = tlsOperation;
  if (op == nullptr) return;
  const std::string name = Str(kmod_module_get_name(module));
  op->lastModule = name;
  // Several matches of one alias share dependencies; a real run finds them
  // loaded by then and skips them, so a dry run must not list them twice.
  if (!op->recorded.insert(name).second) return;
  const std::string role = name == op->target ? "target" : op->dependencies.count(name) > 0 ? "dependency" : "softdep";
  Step step = MakeStep(install ? "install-command" : "insert", module, Str(options), role);
  if (install) step.command = Str(kmod_module_get_install_commands(module));
  op->steps.push_back(std::move(step));
}

int64_t MonotonicMs() {
  timespec now {};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

// Reaps `pid` if it exits before `deadlineMs` (CLOCK_MONOTONIC). Returns 1
// when reaped, 0 at the deadline, -errno when waitpid() fails. Polls with
// WNOHANG (1 ms, doubling up to 50 ms) instead of waiting on a pidfd, so any
// kernel will do (pidfd_open needs 5.3); commands are rare and short.
int WaitForExit(pid_t pid, int& status, int64_t deadlineMs) {
  int64_t pauseUs = 1000;
  for (;;) {
    const pid_t reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return 1;
    if (reaped < 0 && errno != EINTR) return -errno;
    const int64_t leftMs = deadlineMs - MonotonicMs();
    if (leftMs <= 0) return 0;
    const int64_t sleepUs = std::min(pauseUs, leftMs * 1000);
    timespec pause {static_cast<time_t>(sleepUs / 1000000), static_cast<long>(sleepUs % 1000000) * 1000};
    nanosleep(&pause, nullptr);
    pauseUs = std::min<int64_t>(pauseUs * 2, 50 * 1000);
  }
}

// install/remove commands from modprobe.d run through /bin/sh like modprobe
// does, with MODPROBE_MODULE set. posix_spawn with an explicit environment,
// because setenv() (what libkmod's own runner does) is not safe while the
// runtime's other threads read the environment. Unlike modprobe, the wait is
// bounded: after `timeoutMs` the command's process group is killed.
int RunCommand(const std::string& command, const std::string& module, int64_t timeoutMs) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; e++) {
    if (std::strncmp(*e, "MODPROBE_MODULE=", 16) != 0) env.emplace_back(*e);
  }
  env.push_back("MODPROBE_MODULE=" + module);
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::string script = command;
  char sh[] = "/bin/sh";
  char dashC[] = "-c";
  char* argv[] = {sh, dashC, script.data(), nullptr};
  // Thread-pool threads may run with signals blocked or handled by the
  // runtime; the command must start with the default signal state.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  // A process group of its own, so a timeout kills what the shell started too
  // (a `sleep`, a nested modprobe), not only the shell.
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  Operation* op = tlsOperation;
  const int spawned = posix_spawn(&pid, "/bin/sh", nullptr, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    if (op != nullptr) op->commandReason = std::string("cannot run command: ") + std::strerror(spawned);
    return -spawned;
  }
  int status = 0;
  int waited = WaitForExit(pid, status, MonotonicMs() + timeoutMs);
  if (waited == 0) {
    kill(-pid, SIGKILL);
    waited = WaitForExit(pid, status, MonotonicMs() + kKillGraceMs);
    if (op != nullptr) {
      op->commandReason = "command \"" + command + "\" did not finish within " + std::to_string(timeoutMs) + " ms and was killed" +
                          (waited == 0 ? " (but had not exited " + std::to_string(kKillGraceMs) + " ms later)" : "");
    }
    return -ETIMEDOUT;
  }
  if (waited < 0) return waited;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (op != nullptr) {
    op->commandReason = "command \"" + command + "\" " +
                        (WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                           : "killed by signal " + std::to_string(WTERMSIG(status)));
  }
  // The exit status means nothing as an errno; EIO stands for "the command failed".
  return -EIO;
}

// libkmod's run_install callback; `data` is the Options of the insert.
int RunInstallCommand(kmod_module* module, const char* cmdline, void* data) {
  const auto* options = static_cast<const Options*>(data);
  return RunCommand(Str(cmdline), Str(kmod_module_get_name(module)), options->commandTimeoutMs);
}

// `modprobe [--dry-run] <spec>`: each match of the name/alias is probed with
// its dependencies and softdeps first; blacklisting applies to aliases only,
// already loaded modules are skipped, the spec's options go to the named
// module after any modprobe.d options.
void RunInsert(Operation& op, const Options& options, const std::string& spec, bool dryRun) {
  const auto [name, extraOptions] = SplitSpec(spec);
  if (name.empty()) return op.Fail(EINVAL, spec, "empty module string", "parse");
  Context context(options);
  if (context.get() == nullptr) return op.Fail(ENOMEM, name, "kmod_new failed", "kmod_new");
  ModuleList list;
  if (!Lookup(op, options, context.get(), name, list)) return;

  unsigned int flags = KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY;
  if (dryRun) flags |= KMOD_PROBE_DRY_RUN;
  if (options.ignoreCommands) flags |= KMOD_PROBE_IGNORE_COMMAND;

  std::vector<kmod_module*> matches = list.Modules();
  for (kmod_module* module : matches) {
    op.target = Str(kmod_module_get_name(module));
    op.dependencies.clear();
    ModuleList deps(kmod_module_get_dependencies(module));
    std::vector<kmod_module*> depModules = deps.Modules();
    for (kmod_module* dep : depModules) op.dependencies.insert(Str(kmod_module_get_name(dep)));
    UnrefAll(depModules);
    op.lastModule.clear();
    op.commandReason.clear();

    const int result = kmod_module_probe_insert_module(module, flags, extraOptions.empty() ? nullptr : extraOptions.c_str(),
                                                       RunInstallCommand, const_cast<Options*>(&options), RecordAction);
    if (result < 0) {
      // print_action runs right before each insertion, and the probe stops at
      // the first required module that fails, so the last one printed failed.
      const std::string failing = op.lastModule.empty() ? op.target : op.lastModule;
      std::string reason;
      if (failing != op.target) reason = "dependency \"" + failing + "\": ";
      bool hasFile = true;
      for (const Step& step : op.steps) {
        if (step.module == failing && step.action == "insert") hasFile = step.hasPath;
      }
      if (!op.commandReason.empty()) {
        reason += op.commandReason;
      } else if (-result == ENOENT && !op.lastModule.empty()) {
        // libkmod answers ENOENT itself for a module modules.dep does not list;
        // otherwise it is the kernel's, which modprobe words like this.
        reason += hasFile ? "Unknown symbol in module, or unknown parameter (see dmesg)" : "no module file (not in modules.dep)";
      } else {
        reason += std::strerror(-result);
      }
      op.Fail(-result, failing, reason, "init_module");
      // Like modprobe, the other matches of an alias are still tried.
    } else if (result > 0) {
      Step step = MakeStep("blacklisted", module, "", "target");
      op.steps.push_back(std::move(step));
    }
  }
  UnrefAll(matches);
}

// `modprobe -r <name>` as REF runs it, per match: its post-softdeps, the
// module itself (or its modprobe.d remove command), the dependencies that are
// then unused, its pre-softdeps. Unlike modprobe, which walks the
// dependencies in insert order and so keeps any that another dependency still
// held at that moment, they go last-inserted first: modules.dep lists the
// whole closure, and in reverse insert order each one is unused by the time
// its turn comes. Only the named module's failure counts; the rest is best
// effort, as in modprobe. A dry run cannot know what will be loaded or unused
// by then, so it reads no kernel state and lists every candidate (role
// "dependency" = removed if unused).
void RemoveDependency(Operation& op, kmod_module* module, bool dryRun) {
  const std::string name = Str(kmod_module_get_name(module));
  if (op.recorded.count(name) > 0) return;
  if (!dryRun) {
    const int state = kmod_module_get_initstate(module);
    if (state < 0 || state == KMOD_MODULE_BUILTIN || kmod_module_get_refcnt(module) != 0) return;
  }
  op.recorded.insert(name);
  op.steps.push_back(MakeStep("remove", module, "", "dependency"));
  if (!dryRun) kmod_module_remove_module(module, 0);
}

void RemoveModule(Operation& op, const Options& options, kmod_module* module, bool target, bool dryRun) {
  const std::string name = Str(kmod_module_get_name(module));
  if (op.recorded.count(name) > 0) return;
  const char* command = options.ignoreCommands ? nullptr : kmod_module_get_remove_commands(module);
  if (!dryRun && command == nullptr) {
    const int state = kmod_module_get_initstate(module);
    if (state < 0) {
      if (target) op.Fail(ENOENT, name, "module is not loaded", "kmod_module_get_initstate");
      return;
    }
    if (state == KMOD_MODULE_BUILTIN) {
      if (target) op.Fail(EPERM, name, "module is built into the kernel", "kmod_module_get_initstate");
      return;
    }
  }
  op.recorded.insert(name);
  ModuleList pre;
  ModuleList post;
  if (!options.ignoreCommands) kmod_module_get_softdeps(module, pre.out(), post.out());
  std::vector<kmod_module*> posts = post.Modules(true);
  for (kmod_module* soft : posts) RemoveModule(op, options, soft, false, dryRun);
  UnrefAll(posts);

  if (!dryRun && command == nullptr && kmod_module_get_refcnt(module) > 0) {
    if (target) op.Fail(EBUSY, name, "module is in use", "kmod_module_get_refcnt");
    return;
  }
  Step step = MakeStep(command != nullptr ? "remove-command" : "remove", module, "", target ? "target" : "softdep");
  if (command != nullptr) step.command = command;
  op.steps.push_back(std::move(step));
  if (!dryRun) {
    op.commandReason.clear();
    const int err = command != nullptr ? RunCommand(command, name, options.commandTimeoutMs) : kmod_module_remove_module(module, 0);
    if (err < 0) {
      const std::string reason = op.commandReason.empty() ? std::strerror(-err) : op.commandReason;
      if (target) op.Fail(-err, name, reason, command != nullptr ? "remove command" : "delete_module");
      return;
    }
  }
  // A remove command takes over the whole job, dependencies included (modprobe).
  if (command == nullptr) {
    ModuleList deps(kmod_module_get_dependencies(module));
    std::vector<kmod_module*> depModules = deps.Modules(true);
    for (kmod_module* dep : depModules) RemoveDependency(op, dep, dryRun);
    UnrefAll(depModules);
  }
  std::vector<kmod_module*> pres = pre.Modules(true);
  for (kmod_module* soft : pres) RemoveModule(op, options, soft, false, dryRun);
  UnrefAll(pres);
}

void RunRemove(Operation& op, const Options& options, const std::string& spec, bool dryRun) {
  // REF unloads with the first word of the module string; options mean nothing here.
  const std::string name = SplitSpec(spec).first;
  if (name.empty()) return op.Fail(EINVAL, spec, "empty module name", "parse");
  Context context(options);
  if (context.get() == nullptr) return op.Fail(ENOMEM, name, "kmod_new failed", "kmod_new");
  ModuleList list;
  if (!Lookup(op, options, context.get(), name, list)) return;
  std::vector<kmod_module*> matches = list.Modules();
  for (kmod_module* module : matches) {
    RemoveModule(op, options, module, true, dryRun);
    if (op.failed) break;
  }
  UnrefAll(matches);
}

// ---- JS conversion -------------------------------------------------------

Options ParseOptions(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Env env = info.Env();
  if (!info[index].IsObject() || info[index].IsArray()) {
    throw Napi::TypeError::New(env, std::string(fn) + ": options must be an object");
  }
  Napi::Object object = info[index].As<Napi::Object>();
  Options options;
  Napi::Value dir = object.Get("moduleDir");
  if (!dir.IsString()) throw Napi::TypeError::New(env, std::string(fn) + ": options.moduleDir must be a string");
  options.moduleDir = dir.As<Napi::String>().Utf8Value();
  if (options.moduleDir.empty() || options.moduleDir.find('\0') != std::string::npos || options.moduleDir.size() >= PATH_MAX) {
    throw Napi::TypeError::New(env, std::string(fn) + ": options.moduleDir must be a non-empty path without NUL bytes");
  }
  Napi::Value paths = object.Get("configPaths");
  if (!paths.IsUndefined()) {
    if (!paths.IsArray()) throw Napi::TypeError::New(env, std::string(fn) + ": options.configPaths must be an array of paths");
    options.systemConfig = false;
    Napi::Array array = paths.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); i++) {
      Napi::Value entry = array.Get(i);
      std::string text = entry.IsString() ? entry.As<Napi::String>().Utf8Value() : std::string();
      if (text.empty() || text.find('\0') != std::string::npos) {
        throw Napi::TypeError::New(env, std::string(fn) + ": options.configPaths[" + std::to_string(i) +
                                            "] must be a non-empty path without NUL bytes");
      }
      options.configPaths.push_back(std::move(text));
    }
  }
  Napi::Value ignore = object.Get("ignoreCommands");
  if (!ignore.IsUndefined()) {
    if (!ignore.IsBoolean()) throw Napi::TypeError::New(env, std::string(fn) + ": options.ignoreCommands must be a boolean");
    options.ignoreCommands = ignore.As<Napi::Boolean>().Value();
  }
  Napi::Value timeout = object.Get("commandTimeoutMs");
  if (!timeout.IsUndefined()) {
    const double ms = timeout.IsNumber() ? timeout.As<Napi::Number>().DoubleValue() : -1;
    if (!std::isfinite(ms) || ms < 1 || ms > static_cast<double>(kMaxCommandTimeoutMs) || std::floor(ms) != ms) {
      throw Napi::TypeError::New(env, std::string(fn) + ": options.commandTimeoutMs must be an integer from 1 to " +
                                          std::to_string(kMaxCommandTimeoutMs));
    }
    options.commandTimeoutMs = static_cast<int64_t>(ms);
  }
  return options;
}

std::string RequireSpec(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* name) {
  Napi::Value value = info[index];
  std::string text = value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
  if (text.find('\0') != std::string::npos || text.size() > kMaxSpecLength || SplitSpec(text).first.empty()) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + name + " must be a string naming a module (at most " +
                                               std::to_string(kMaxSpecLength) + " bytes, no NUL)");
  }
  return text;
}

// A module name for removal or lookup: one word, as modprobe -r takes it.
std::string RequireName(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  std::string text = RequireSpec(info, index, fn, "name");
  if (SplitSpec(text).first != text) {
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": name must be a single word without whitespace");
  }
  return text;
}

Napi::Value NullableString(Napi::Env env, const char* text) {
  return text == nullptr ? env.Null() : Napi::String::New(env, text);
}

Napi::Array StepsToJs(Napi::Env env, const std::vector<Step>& steps) {
  Napi::Array array = Napi::Array::New(env, steps.size());
  for (size_t i = 0; i < steps.size(); i++) {
    const Step& step = steps[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("action", step.action);
    object.Set("module", step.module);
    object.Set("path", step.hasPath ? Napi::Value(Napi::String::New(env, step.path)) : env.Null());
    object.Set("options", step.options);
    object.Set("role", step.role);
    if (!step.command.empty()) object.Set("command", step.command);
    array.Set(static_cast<uint32_t>(i), object);
  }
  return array;
}

// `<operation> "<module>": <reason> (<ERRNO>)` naming the module asked for
// (options left out), with the module that failed, errno and libkmod's own
// log lines attached for the caller's log.
Napi::Error OperationError(Napi::Env env, const char* operation, const std::string& request, const Operation& op) {
  const std::string code = KmodErrnoName(op.failure.err);
  const std::string named = SplitSpec(request).first.empty() ? request : SplitSpec(request).first;
  Napi::Error error = Napi::Error::New(env, std::string(operation) + " \"" + named + "\": " + op.failure.reason + " (" + code + ")");
  error.Set("code", code);
  error.Set("errno", Napi::Number::New(env, -op.failure.err));
  error.Set("syscall", op.failure.syscall);
  error.Set("module", op.failure.module);
  error.Set("request", request);
  error.Set("operation", operation);
  Napi::Array log = Napi::Array::New(env, op.log.size());
  for (size_t i = 0; i < op.log.size(); i++) log.Set(static_cast<uint32_t>(i), op.log[i]);
  error.Set("kmodLog", log);
  error.Set("steps", StepsToJs(env, op.steps));
  return error;
}

Napi::Value InitStateValue(Napi::Env env, kmod_module* module) {
  const int state = kmod_module_get_initstate(module);
  if (state < 0) return env.Null();
  return NullableString(env, kmod_module_initstate_str(static_cast<kmod_module_initstate>(state)));
}

Napi::Array NamesOf(Napi::Env env, kmod_list* list) {
  Napi::Array array = Napi::Array::New(env);
  uint32_t i = 0;
  for (kmod_list* l = list; l != nullptr; l = kmod_list_next(list, l)) {
    kmod_module* module = kmod_module_get_module(l);
    array.Set(i++, Str(kmod_module_get_name(module)));
    kmod_module_unref(module);
  }
  return array;
}

Napi::Object ModuleToJs(Napi::Env env, kmod_module* module) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("name", Str(kmod_module_get_name(module)));
  object.Set("path", NullableString(env, kmod_module_get_path(module)));
  object.Set("options", Str(kmod_module_get_options(module)));
  object.Set("installCommand", NullableString(env, kmod_module_get_install_commands(module)));
  object.Set("removeCommand", NullableString(env, kmod_module_get_remove_commands(module)));
  object.Set("state", InitStateValue(env, module));
  ModuleList deps(kmod_module_get_dependencies(module));
  Napi::Array dependencies = Napi::Array::New(env);
  std::vector<kmod_module*> depModules = deps.Modules();
  for (size_t i = 0; i < depModules.size(); i++) {
    Napi::Object dep = Napi::Object::New(env);
    dep.Set("name", Str(kmod_module_get_name(depModules[i])));
    dep.Set("path", NullableString(env, kmod_module_get_path(depModules[i])));
    dependencies.Set(static_cast<uint32_t>(i), dep);
  }
  UnrefAll(depModules);
  object.Set("dependencies", dependencies);
  ModuleList pre;
  ModuleList post;
  Napi::Object softdeps = Napi::Object::New(env);
  if (kmod_module_get_softdeps(module, pre.out(), post.out()) == 0) {
    softdeps.Set("pre", NamesOf(env, pre.get()));
    softdeps.Set("post", NamesOf(env, post.get()));
  } else {
    softdeps.Set("pre", Napi::Array::New(env));
    softdeps.Set("post", Napi::Array::New(env));
  }
  object.Set("softdeps", softdeps);
  return object;
}

// ---- entry points --------------------------------------------------------

Napi::Value KmodResolve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 2, "kmodResolve");
  const Options options = ParseOptions(info, 0, "kmodResolve");
  const std::string name = RequireName(info, 1, "kmodResolve");
  Operation op;
  OperationScope scope(op);
  Context context(options);
  if (context.get() == nullptr) throw Napi::Error::New(env, "kmodResolve: kmod_new failed");
  ModuleList list;
  if (!Lookup(op, options, context.get(), name, list)) throw OperationError(env, "resolve", name, op);
  Napi::Array modules = Napi::Array::New(env);
  uint32_t i = 0;
  std::vector<kmod_module*> matches = list.Modules();
  for (kmod_module* module : matches) modules.Set(i++, ModuleToJs(env, module));
  UnrefAll(matches);
  Napi::Object result = Napi::Object::New(env);
  result.Set("query", name);
  result.Set("modules", modules);
  return result;
}

Napi::Value KmodPlan(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireArgCount(info, 3, "kmodPlan");
  const Options options = ParseOptions(info, 0, "kmodPlan");
  const std::string spec = RequireSpec(info, 1, "kmodPlan", "moduleSpec");
  Napi::Value actionValue = info[2];
  const std::string action = actionValue.IsString() ? actionValue.As<Napi::String>().Utf8Value() : std::string();
  if (action != "insert" && action != "remove") {
    throw Napi::TypeError::New(env, "kmodPlan: action must be \"insert\" or \"remove\"");
  }
  Operation op;
  OperationScope scope(op);
  if (action == "insert") {
    RunInsert(op, options, spec, true);
  } else {
    RunRemove(op, options, spec, true);
  }
  if (op.failed) throw OperationError(env, "plan", spec, op);
  return StepsToJs(env, op.steps);
}

class ModuleTask : public OwnThreadTask {
 public:
  ModuleTask(Napi::Env env, bool insert, Options options, std::string spec)
      : OwnThreadTask(env), insert_(insert), options_(std::move(options)), spec_(std::move(spec)) {}

  static Napi::Promise Queue(Napi::Env env, ModuleTask* task) {
    return OwnThreadTask::Queue(env, task, task->insert_ ? "pvctrl.kmodInsert" : "pvctrl.kmodRemove", "pvctrl-kmod");
  }

 protected:
  void Execute() override {
    OperationScope scope(op_);
    if (insert_) {
      RunInsert(op_, options_, spec_, false);
    } else {
      RunRemove(op_, options_, spec_, false);
    }
  }

  void Failed(const std::string& reason) override { internalFailure_ = reason; }

  void Settle(Napi::Env env) override {
    const char* operation = insert_ ? "insert" : "remove";
    if (!internalFailure_.empty()) {
      deferred_.Reject(Napi::Error::New(env, std::string(operation) + " \"" + spec_ + "\": " + internalFailure_).Value());
    } else if (op_.failed) {
      deferred_.Reject(OperationError(env, operation, spec_, op_).Value());
    } else {
      deferred_.Resolve(StepsToJs(env, op_.steps));
    }
  }

 private:
  bool insert_;
  Options options_;
  std::string spec_;
  Operation op_;
  // Execute() threw or never ran (no thread); not a kmod failure with an errno.
  std::string internalFailure_;
};

Napi::Value KmodInsert(const Napi::CallbackInfo& info) {
  RequireArgCount(info, 2, "kmodInsert");
  Options options = ParseOptions(info, 0, "kmodInsert");
  std::string spec = RequireSpec(info, 1, "kmodInsert", "moduleSpec");
  return ModuleTask::Queue(info.Env(), new ModuleTask(info.Env(), true, std::move(options), std::move(spec)));
}

Napi::Value KmodRemove(const Napi::CallbackInfo& info) {
  RequireArgCount(info, 2, "kmodRemove");
  Options options = ParseOptions(info, 0, "kmodRemove");
  std::string name = RequireName(info, 1, "kmodRemove");
  return ModuleTask::Queue(info.Env(), new ModuleTask(info.Env(), false, std::move(options), std::move(name)));
}

}  // namespace

void InitKmodDrivers(Napi::Env env, Napi::Object exports) {
  exports.Set("kmodResolve", Napi::Function::New(env, KmodResolve, "kmodResolve"));
  exports.Set("kmodPlan", Napi::Function::New(env, KmodPlan, "kmodPlan"));
  exports.Set("kmodInsert", Napi::Function::New(env, KmodInsert, "kmodInsert"));
  exports.Set("kmodRemove", Napi::Function::New(env, KmodRemove, "kmodRemove"));
}

}  // namespace pvctrl
