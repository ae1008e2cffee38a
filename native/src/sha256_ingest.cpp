// Streaming object ingest: SHA-256 + append to a temp file, off the JS thread.
//
// JS copies each chunk into `fill_` (a memcpy on the loop thread; copying
// means callers may reuse their buffers at once). Once `fill_` holds a batch
// it is queued, and two independent chains of thread-pool tasks consume the
// queue in order: one hashes, one writes. Each chain runs at most one task at
// a time, which is what keeps chunk order, but neither waits for the other,
// so hashing batch N+1 overlaps writing batch N. A batch is recycled once
// both chains are past it.
//
// write() hands out a pending promise only when the bytes held (queued
// batches + `fill_`) reach the high-water mark, so memory per ingest stays
// near that mark whatever the object size, and an HTTP handler that pauses
// its socket while write() is pending gets real backpressure.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "digest_io.h"
#include "napi_util.h"

namespace pvctrl {

namespace {

// 1..4 MiB high-water marks with 256..512 KiB batches measured alike, 128 KiB
// batches ~10% slower (docs/native-ingest.md); 2 MiB / 256 KiB keeps memory
// per upload low without losing throughput.
constexpr size_t kDefaultHighWater = 2u << 20;
// Small batches would cost a thread-pool round trip plus a loop wake-up per
// HTTP chunk; data below this stays in memory until more arrives or finish().
constexpr size_t kDefaultMinBatch = 256u << 10;
constexpr size_t kHashFileBlock = 1u << 20;

struct Failure {
  int err = 0;
  const char* syscall = "";
  void Set(int e, const char* call) {
    if (err == 0) {
      err = e;
      syscall = call;
    }
  }
};

enum class TaskKind { kHash, kWrite, kFinalize, kDiscard };

struct Batch {
  std::vector<uint8_t> data;
  bool hashed = false;
  bool written = false;
};

// What one task reports back to the JS thread.
struct TaskResult {
  Failure failure;
  std::string digest;      // kFinalize
  bool cancelled = false;  // skipped because abort() came first
};

class Ingest;

class IngestTask : public Napi::AsyncWorker {
 public:
  IngestTask(Napi::Env env, Ingest* ingest, TaskKind kind, Batch* batch)
      : Napi::AsyncWorker(env, "pvctrl.ingest"), ingest_(ingest), kind_(kind), batch_(batch) {}

  void Execute() override;
  void OnOK() override;
  // node-addon-api routes a C++ exception out of Execute() (bad_alloc) here;
  // without an override the chain would never complete.
  void OnError(const Napi::Error& error) override;

 private:
  Ingest* ingest_;
  const TaskKind kind_;
  Batch* batch_;
  TaskResult result_;
};

class Ingest : public Napi::ObjectWrap<Ingest> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeIngest",
                       {
                           InstanceMethod<&Ingest::Write>("write"),
                           InstanceMethod<&Ingest::Finish>("finish"),
                           InstanceMethod<&Ingest::Abort>("abort"),
                           InstanceAccessor<&Ingest::Buffered>("bufferedBytes"),
                       });
  }

  explicit Ingest(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Ingest>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || info.Length() > 2) {
      throw Napi::TypeError::New(env, "NativeIngest: expected 1 or 2 arguments, got " + std::to_string(info.Length()));
    }
    path_ = RequirePath(info, 0, "NativeIngest", "path");
    if (info.Length() == 2 && !info[1].IsUndefined()) ReadOptions(env, info[1]);

    ctx_ = EVP_MD_CTX_new();
    if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, Sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      ctx_ = nullptr;
      throw Napi::Error::New(env, "NativeIngest: cannot initialise SHA-256 context");
    }
    // O_EXCL: a temp path that already exists belongs to someone else (or to a
    // crashed run the start-up sweep will remove); never write through it.
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int err = errno;
      // A throwing constructor never runs the destructor.
      EVP_MD_CTX_free(ctx_);
      ctx_ = nullptr;
      throw ErrnoError(env, "NativeIngest", "open", err, path_);
    }
  }

  ~Ingest() override {
    // Reached only when JS dropped the object and no task holds a reference.
    // Nobody can finish it any more, so an unfinished temp file is garbage.
    if (fd_ >= 0) ::close(fd_);
    if (!finished_ && !discarded_) ::unlink(path_.c_str());
    if (ctx_ != nullptr) EVP_MD_CTX_free(ctx_);
  }

  // ---- worker threads. The hash chain owns ctx_, the write chain fd_ and
  // size_; both only read their batch, which the JS thread leaves alone
  // until the task reports back.

  void RunHash(Batch& batch, TaskResult& result) {
    if (cancel_.load(std::memory_order_acquire)) {
      result.cancelled = true;
    } else if (EVP_DigestUpdate(ctx_, batch.data.data(), batch.data.size()) != 1) {
      result.failure.Set(EIO, "EVP_DigestUpdate");
    }
  }

  void RunWrite(Batch& batch, TaskResult& result) {
    if (cancel_.load(std::memory_order_acquire)) {
      result.cancelled = true;
      return;
    }
    if (int err = WriteAll(fd_, batch.data.data(), batch.data.size())) {
      result.failure.Set(err, "write");
      return;
    }
    if (earlyWriteback_) {
      // Start writeback of this batch now so finish()'s fsync only waits for
      // the tail instead of the whole object. Advisory: errors resurface at fsync.
      ::sync_file_range(fd_, static_cast<off_t>(size_), static_cast<off_t>(batch.data.size()), SYNC_FILE_RANGE_WRITE);
    }
    size_ += batch.data.size();
  }

  // Runs after both chains are idle and the queue is empty.
  void RunFinalize(TaskResult& result) {
    if (cancel_.load(std::memory_order_acquire)) {
      result.cancelled = true;
      return;
    }
    if (::fsync(fd_) != 0) return result.failure.Set(errno, "fsync");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0 && errno != EINTR) return result.failure.Set(errno, "close");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &length) != 1) return result.failure.Set(EIO, "EVP_DigestFinal_ex");
    result.digest = Hex(md, length);
  }

  void RunDiscard(TaskResult& result) {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) result.failure.Set(errno, "unlink");
  }

  // ---- JS thread.

  void TaskDone(Napi::Env env, TaskKind kind, Batch* batch, const TaskResult& result) {
    Unref();
    switch (kind) {
      case TaskKind::kHash:
        hashBusy_ = false;
        batch->hashed = true;
        break;
      case TaskKind::kWrite:
        writeBusy_ = false;
        batch->written = true;
        break;
      case TaskKind::kFinalize:
        finalizeBusy_ = false;
        break;
      case TaskKind::kDiscard:
        DiscardDone(env, result);
        return;
    }
    if (result.failure.err != 0) Fail(env, result.failure);
    if (result.cancelled && finishWaiter_) {
      finishWaiter_->Reject(AbortedError(env).Value());
      finishWaiter_.reset();
    }
    if (kind == TaskKind::kFinalize && result.failure.err == 0 && !result.cancelled) {
      finished_ = true;
      Napi::Object out = Napi::Object::New(env);
      out.Set("sha256", Napi::String::New(env, result.digest));
      out.Set("size", Napi::Number::New(env, static_cast<double>(size_)));
      if (finishWaiter_) finishWaiter_->Resolve(out);
      finishWaiter_.reset();
    }
    Retire();
    Pump(env);
  }

 private:
  void ReadOptions(Napi::Env env, Napi::Value value) {
    if (!value.IsObject()) throw Napi::TypeError::New(env, "NativeIngest: options must be an object");
    Napi::Object options = value.As<Napi::Object>();
    auto size = [&](const char* key, size_t& target) {
      Napi::Value v = options.Get(key);
      if (v.IsUndefined()) return;
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(d >= 1 && d <= static_cast<double>(1u << 30))) {
        throw Napi::TypeError::New(env, std::string("NativeIngest: options.") + key + " must be between 1 and 2^30");
      }
      target = static_cast<size_t>(d);
    };
    size("highWaterMark", highWater_);
    size("batchBytes", minBatch_);
    Napi::Value writeback = options.Get("earlyWriteback");
    if (!writeback.IsUndefined()) {
      if (!writeback.IsBoolean()) throw Napi::TypeError::New(env, "NativeIngest: options.earlyWriteback must be a boolean");
      earlyWriteback_ = writeback.As<Napi::Boolean>().Value();
    }
  }

  Napi::Error IoError(Napi::Env env, int err, const char* syscall) {
    return ErrnoError(env, "ingest", syscall, err, path_);
  }
  Napi::Error AbortedError(Napi::Env env) { return CodedError(env, "ingest: aborted", "ECANCELED"); }

  template <typename MakeError>
  void RejectWaiters(MakeError make) {
    for (auto& deferred : drainWaiters_) deferred.Reject(make().Value());
    drainWaiters_.clear();
    if (finishWaiter_) {
      finishWaiter_->Reject(make().Value());
      finishWaiter_.reset();
    }
  }

  void Fail(Napi::Env env, const Failure& failure) {
    if (err_ != 0) return;
    err_ = failure.err;
    errSyscall_ = failure.syscall;
    RejectWaiters([&] { return IoError(env, err_, errSyscall_); });
  }

  void DiscardDone(Napi::Env env, const TaskResult& result) {
    discardBusy_ = false;
    discarded_ = true;
    for (auto& deferred : abortWaiters_) {
      if (result.failure.err != 0) {
        deferred.Reject(IoError(env, result.failure.err, result.failure.syscall).Value());
      } else {
        deferred.Resolve(env.Undefined());
      }
    }
    abortWaiters_.clear();
  }

  bool Busy() const { return hashBusy_ || writeBusy_ || finalizeBusy_ || discardBusy_; }

  void Start(Napi::Env env, TaskKind kind, Batch* batch) {
    Ref();
    (new IngestTask(env, this, kind, batch))->Queue();
  }

  // Drops batches both chains are done with, keeping one buffer for reuse so
  // a steady upload does not malloc/free a batch every time.
  void Retire() {
    while (!queue_.empty() && queue_.front()->hashed && queue_.front()->written) {
      queuedBytes_ -= queue_.front()->data.size();
      if (!spare_) {
        spare_ = std::move(queue_.front());
        spare_->data.clear();
        spare_->hashed = spare_->written = false;
      }
      queue_.pop_front();
    }
  }

  void Enqueue() {
    auto batch = spare_ ? std::move(spare_) : std::make_unique<Batch>();
    std::swap(batch->data, fill_);
    queuedBytes_ += batch->data.size();
    queue_.push_back(std::move(batch));
  }

  Batch* FirstWhere(bool Batch::*done) {
    for (auto& batch : queue_) {
      if (!((*batch).*done)) return batch.get();
    }
    return nullptr;
  }

  // Starts whatever can run next; called whenever state changes on the JS thread.
  void Pump(Napi::Env env) {
    if (aborting_) {
      if (!Busy() && !discarded_) {
        discardBusy_ = true;
        Start(env, TaskKind::kDiscard, nullptr);
      }
      return;
    }
    if (err_ != 0 || finalizeBusy_ || finished_) return;
    const bool finishing = finishWaiter_.has_value();
    if (!fill_.empty() && (fill_.size() >= minBatch_ || finishing)) Enqueue();
    if (!hashBusy_) {
      if (Batch* next = FirstWhere(&Batch::hashed)) {
        hashBusy_ = true;
        Start(env, TaskKind::kHash, next);
      }
    }
    if (!writeBusy_) {
      if (Batch* next = FirstWhere(&Batch::written)) {
        writeBusy_ = true;
        Start(env, TaskKind::kWrite, next);
      }
    }
    if (HeldBytes() < highWater_) {
      for (auto& deferred : drainWaiters_) deferred.Resolve(env.Undefined());
      drainWaiters_.clear();
    }
    if (finishing && queue_.empty() && fill_.empty() && !Busy()) {
      finalizeBusy_ = true;
      Start(env, TaskKind::kFinalize, nullptr);
    }
  }

  size_t HeldBytes() const { return queuedBytes_ + fill_.size(); }

  void Append(const uint8_t* data, size_t length) {
    if (fill_.size() + length > fill_.capacity()) {
      // One allocation per batch buffer instead of letting the vector double.
      fill_.reserve(std::max(fill_.size() + length, minBatch_ + (64u << 10)));
    }
    fill_.insert(fill_.end(), data, data + length);
  }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "ingest.write");
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, "ingest.write: chunk must be a Uint8Array");
    }
    if (aborting_ || finishWaiter_ || finalizeBusy_ || finished_) {
      throw CodedError(env, "ingest.write: ingest is already finished or aborted", "ERR_INGEST_CLOSED");
    }
    if (err_ != 0) throw IoError(env, err_, errSyscall_);

    Napi::Uint8Array chunk = info[0].As<Napi::Uint8Array>();
    if (chunk.ByteLength() == 0) return env.Undefined();
    Append(chunk.Data(), chunk.ByteLength());
    Pump(env);
    if (HeldBytes() < highWater_) return env.Undefined();
    drainWaiters_.emplace_back(Napi::Promise::Deferred::New(env));
    return drainWaiters_.back().Promise();
  }

  Napi::Value Finish(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 0, "ingest.finish");
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    if (aborting_) {
      deferred.Reject(AbortedError(env).Value());
    } else if (err_ != 0) {
      deferred.Reject(IoError(env, err_, errSyscall_).Value());
    } else if (finishWaiter_ || finalizeBusy_ || finished_) {
      deferred.Reject(CodedError(env, "ingest.finish: called twice", "ERR_INGEST_CLOSED").Value());
    } else {
      finishWaiter_.emplace(deferred);
      Pump(env);
    }
    return deferred.Promise();
  }

  Napi::Value Abort(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 0, "ingest.abort");
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    if (discarded_) {
      deferred.Resolve(env.Undefined());
      return deferred.Promise();
    }
    abortWaiters_.push_back(deferred);
    if (!aborting_) {
      aborting_ = true;
      cancel_.store(true, std::memory_order_release);
      std::vector<uint8_t>().swap(fill_);
      RejectWaiters([&] { return AbortedError(env); });
      Pump(env);
    }
    return deferred.Promise();
  }

  Napi::Value Buffered(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(HeldBytes()));
  }

  std::string path_;
  size_t highWater_ = kDefaultHighWater;
  size_t minBatch_ = kDefaultMinBatch;
  bool earlyWriteback_ = true;

  // JS thread only (batches in queue_ are read by their running task).
  std::vector<uint8_t> fill_;
  std::deque<std::unique_ptr<Batch>> queue_;
  std::unique_ptr<Batch> spare_;
  size_t queuedBytes_ = 0;
  bool hashBusy_ = false;
  bool writeBusy_ = false;
  bool finalizeBusy_ = false;
  bool discardBusy_ = false;
  bool aborting_ = false;
  bool finished_ = false;
  bool discarded_ = false;
  int err_ = 0;
  const char* errSyscall_ = "";
  std::vector<Napi::Promise::Deferred> drainWaiters_;
  std::optional<Napi::Promise::Deferred> finishWaiter_;
  std::vector<Napi::Promise::Deferred> abortWaiters_;

  EVP_MD_CTX* ctx_ = nullptr;  // hash chain, then finalize
  int fd_ = -1;                // write chain, then finalize / discard
  uint64_t size_ = 0;          // write chain

  // Lets abort() stop queued tasks from writing or fsyncing data that is
  // about to be deleted anyway.
  std::atomic<bool> cancel_{false};
};

void IngestTask::Execute() {
  switch (kind_) {
    case TaskKind::kHash:
      ingest_->RunHash(*batch_, result_);
      break;
    case TaskKind::kWrite:
      ingest_->RunWrite(*batch_, result_);
      break;
    case TaskKind::kFinalize:
      ingest_->RunFinalize(result_);
      break;
    case TaskKind::kDiscard:
      ingest_->RunDiscard(result_);
      break;
  }
}

void IngestTask::OnOK() { ingest_->TaskDone(Env(), kind_, batch_, result_); }

void IngestTask::OnError(const Napi::Error&) {
  result_.failure.Set(ENOMEM, "worker");
  ingest_->TaskDone(Env(), kind_, batch_, result_);
}

// sha256File: whole-file hash on the thread pool, one task per file.
class HashFileTask : public Napi::AsyncWorker {
 public:
  HashFileTask(Napi::Env env, std::string path)
      : Napi::AsyncWorker(env, "pvctrl.sha256File"),
        path_(std::move(path)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failure_.Set(errno, "open");
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, Sha256(), nullptr) != 1) {
      failure_.Set(ENOMEM, "EVP_DigestInit_ex");
    } else {
      std::vector<uint8_t> block(kHashFileBlock);
      for (;;) {
        const ssize_t n = ::read(fd, block.data(), block.size());
        if (n < 0) {
          if (errno == EINTR) continue;
          failure_.Set(errno, "read");
          break;
        }
        if (n == 0) break;
        if (EVP_DigestUpdate(ctx, block.data(), static_cast<size_t>(n)) != 1) {
          failure_.Set(EIO, "EVP_DigestUpdate");
          break;
        }
      }
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int length = 0;
      if (failure_.err == 0) {
        if (EVP_DigestFinal_ex(ctx, md, &length) == 1) {
          digest_ = Hex(md, length);
        } else {
          failure_.Set(EIO, "EVP_DigestFinal_ex");
        }
      }
    }
    EVP_MD_CTX_free(ctx);
    ::close(fd);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

  void OnOK() override {
    Napi::Env env = Env();
    if (failure_.err != 0) {
      deferred_.Reject(ErrnoError(env, "sha256File", failure_.syscall, failure_.err, path_).Value());
    } else {
      deferred_.Resolve(Napi::String::New(env, digest_));
    }
  }

 private:
  std::string path_;
  Napi::Promise::Deferred deferred_;
  Failure failure_;
  std::string digest_;
};

Napi::Value Sha256File(const Napi::CallbackInfo& info) {
  RequireArgCount(info, 1, "sha256File");
  std::string path = RequirePath(info, 0, "sha256File", "path");
  auto* task = new HashFileTask(info.Env(), std::move(path));
  Napi::Promise promise = task->Promise();
  task->Queue();
  return promise;
}

}  // namespace

void InitSha256Ingest(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeIngest", Ingest::Define(env));
  exports.Set("sha256File", Napi::Function::New(env, Sha256File, "sha256File"));
}

}  // namespace pvctrl
