// Base for native work that can block: it runs on a thread of its own and
// settles a promise on the JS thread. The rule it serves, and the
// measurements behind it, are in docs/native-threads.md: no native call
// blocks the event loop or waits without a timeout, and long native work
// runs on its own threads, never on the runtime's shared pool (napi async
// work), which under Bun has one thread per CPU and also serves sha256File
// and the ingest chains.
//
// A thread-safe function brings the task back to the JS thread and keeps the
// event loop alive meanwhile, like async work would.
#pragma once

#include <napi.h>
#include <pthread.h>

#include <exception>
#include <string>
#include <system_error>
#include <thread>

namespace pvctrl {

class OwnThreadTask {
 public:
  explicit OwnThreadTask(Napi::Env env) : deferred_(Napi::Promise::Deferred::New(env)) {}
  virtual ~OwnThreadTask() = default;

  OwnThreadTask(const OwnThreadTask&) = delete;
  OwnThreadTask& operator=(const OwnThreadTask&) = delete;

  // Takes ownership of `task` and returns its promise; the task is deleted on
  // the JS thread once settled. `resource` names the async resource (for
  // async hooks), `threadName` the thread (at most 15 characters, see
  // pthread_setname_np). Both must be string literals: the thread outlives
  // the caller's frame.
  static Napi::Promise Queue(Napi::Env env, OwnThreadTask* task, const char* resource, const char* threadName) {
    Napi::Promise promise = task->deferred_.Promise();
    Napi::Function noop = Napi::Function::New(env, [](const Napi::CallbackInfo&) {});
    Napi::ThreadSafeFunction tsfn = Napi::ThreadSafeFunction::New(env, noop, resource, 0, 1);
    try {
      std::thread([task, tsfn, threadName]() mutable {
        pthread_setname_np(pthread_self(), threadName);
        try {
          task->Execute();
        } catch (const std::exception& error) {
          task->Failed(error.what());
        }
        const napi_status status = tsfn.BlockingCall(task, [](Napi::Env env, Napi::Function, OwnThreadTask* done) {
          Napi::HandleScope scope(env);
          done->Settle(env);
          delete done;
        });
        // napi_closing: the environment is being torn down and will never
        // run the callback; the task's JS references die with it, so leaking
        // it is the only safe choice.
        (void)status;
        tsfn.Release();
      }).detach();
    } catch (const std::system_error& error) {
      tsfn.Release();
      task->Failed(std::string("cannot start thread: ") + error.what());
      task->Settle(env);
      delete task;
    }
    return promise;
  }

 protected:
  // On the task's own thread: the blocking work. No N-API calls here.
  virtual void Execute() = 0;
  // Execute() threw, or no thread could be started (then on the JS thread,
  // right before Settle()). Records the failure for Settle().
  virtual void Failed(const std::string& reason) = 0;
  // On the JS thread: resolve or reject deferred_.
  virtual void Settle(Napi::Env env) = 0;

  Napi::Promise::Deferred deferred_;
};

}  // namespace pvctrl
