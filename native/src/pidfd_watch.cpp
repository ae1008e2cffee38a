// PidfdWatcher: tells the JS thread when a watched process exits, from the
// kernel (a pidfd becomes readable when its process exits), so nothing has to
// look at /proc on a timer. One thread per watcher ("pvctrl-pidfd") sleeps in
// poll() on the pidfds plus an eventfd that watch/unwatch/close use to make it
// rebuild its set or leave. Exits come back through a thread-safe function.
//
// The poll has no timeout on purpose: a timeout would be a periodic wake-up,
// which is what this file removes (issue 9). It is a wait for a kernel state
// change on a thread of its own (docs/native-threads.md), and close() ends it
// at once through the eventfd, so close() never waits on anything else.
//
// JS API:
//   new PidfdWatcher(onExit: (token: number) => void)
//   watch(pid) -> token      pidfd_open; throws with code ESRCH if pid is gone
//   unwatch(token)           forget it (no call comes for it afterwards)
//   close()                  stop and join the thread; idempotent
//   size                     number of watched processes
#include <napi.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "napi_util.h"
#include "wake_signal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // same number on every architecture (asm-generic)
#endif

namespace pvctrl {
namespace {

class PidfdWatcher : public Napi::ObjectWrap<PidfdWatcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PidfdWatcher",
                       {
                           InstanceMethod<&PidfdWatcher::Watch>("watch"),
                           InstanceMethod<&PidfdWatcher::Unwatch>("unwatch"),
                           InstanceMethod<&PidfdWatcher::Close>("close"),
                           InstanceAccessor<&PidfdWatcher::Size>("size"),
                       });
  }

  explicit PidfdWatcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PidfdWatcher>(info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "PidfdWatcher");
    if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "PidfdWatcher: onExit must be a function");
    if (!wake_.Open()) throw ErrnoError(env, "PidfdWatcher", "eventfd", errno);
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "pvctrl-pidfd", 0, 1);
    // The daemon lives by its server; a watcher alone must not keep a process running.
    tsfn_.Unref(env);
    try {
      thread_ = std::thread([this]() { Run(); });
    } catch (const std::system_error& error) {
      tsfn_.Release();
      wake_.Close();
      throw Napi::Error::New(env, std::string("PidfdWatcher: cannot start thread: ") + error.what());
    }
  }

  ~PidfdWatcher() override { Stop(); }

 private:
  Napi::Value Watch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "watch");
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "watch: pid must be a positive integer");
    const double value = info[0].As<Napi::Number>().DoubleValue();
    if (!(value >= 1 && value <= 0x7fffffff) || value != static_cast<double>(static_cast<int32_t>(value))) {
      throw Napi::TypeError::New(env, "watch: pid must be a positive integer");
    }
    if (closed_) throw CodedError(env, "watch: the watcher is closed", "ERR_CLOSED");
    const int fd = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(value), 0));
    if (fd < 0) throw ErrnoError(env, "watch", "pidfd_open", errno);
    uint32_t token;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      token = ++lastToken_;
      watched_[token] = fd;
    }
    wake_.Signal();
    return Napi::Number::New(env, token);
  }

  Napi::Value Unwatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "unwatch");
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "unwatch: token must be a number");
    const uint32_t token = info[0].As<Napi::Number>().Uint32Value();
    bool found = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = watched_.find(token);
      if (it != watched_.end()) {
        // The thread may still hold this fd number in its poll set; it checks the token
        // under the lock before it reports, so a reused number is never misreported.
        ::close(it->second);
        watched_.erase(it);
        found = true;
      }
    }
    if (found) wake_.Signal();
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mutex_);
    return Napi::Number::New(info.Env(), static_cast<double>(watched_.size()));
  }

  // JS thread (or the finalizer): the thread only ever waits in poll(), which the
  // eventfd ends, so the join is immediate.
  void Stop() {
    if (closed_) return;
    closed_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.Signal();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& entry : watched_) ::close(entry.second);
    watched_.clear();
    wake_.Close();
    tsfn_.Release();
  }

  void Run() {
    pthread_setname_np(pthread_self(), "pvctrl-pidfd");
    std::vector<pollfd> fds;
    std::vector<uint32_t> tokens;
    for (;;) {
      fds.assign(1, pollfd{wake_.fd(), POLLIN, 0});
      tokens.assign(1, 0);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        for (const auto& entry : watched_) {
          fds.push_back(pollfd{entry.second, POLLIN, 0});
          tokens.push_back(entry.first);
        }
      }
      const int ready = ::poll(fds.data(), fds.size(), -1);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return;  // EFAULT/EINVAL/ENOMEM: nothing sensible left to wait on
      }
      if (fds[0].revents != 0) wake_.Clear();
      std::vector<uint32_t> exited;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        for (size_t i = 1; i < fds.size(); ++i) {
          if (fds[i].revents == 0) continue;
          auto it = watched_.find(tokens[i]);
          if (it == watched_.end() || it->second != fds[i].fd) continue;
          ::close(it->second);
          watched_.erase(it);
          exited.push_back(tokens[i]);
        }
      }
      for (uint32_t token : exited) {
        tsfn_.NonBlockingCall(new uint32_t(token), [](Napi::Env env, Napi::Function onExit, uint32_t* data) {
          const uint32_t value = *data;
          delete data;
          if (env == nullptr) return;  // the environment is going away
          Napi::HandleScope scope(env);
          try {
            onExit.Call({Napi::Number::New(env, value)});
          } catch (const Napi::Error& error) {
            // The JS side catches its own errors; one that escapes is reported, not fatal here.
            error.ThrowAsJavaScriptException();
          }
        });
      }
    }
  }

  std::mutex mutex_;
  std::map<uint32_t, int> watched_;
  uint32_t lastToken_ = 0;
  bool stopping_ = false;
  bool closed_ = false;
  WakeSignal wake_;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
};

}  // namespace

void InitPidfdWatch(Napi::Env env, Napi::Object exports) {
  exports.Set("PidfdWatcher", PidfdWatcher::Define(env));
}

}  // namespace pvctrl
