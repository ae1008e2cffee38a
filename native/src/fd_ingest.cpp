// Object upload straight from the connection: read the rest of a request body
// from the socket fd, SHA-256 it and append it to a temp file, all off the JS
// thread (docs/native-ingest.md, "Upload fast path").
//
// Bun's HTTP parser hands bodies to JS at ~700 MB/s, too slow for large
// uploads. For `PUT /objects/{sha}` the TypeScript side stops Bun reading the
// socket, collects the body bytes Bun had already read (the `prefix`) and
// asks this worker for the exact number of bytes still to come.
//
// Two threads per upload, both our own: the napi thread pool is shared with
// every other async task of the addon, and an upload holding a pool thread for
// seconds would stall small uploads and sha256File behind it.
//  - reader: recv(MSG_DONTWAIT) + poll into fixed buffers, hashing each piece
//    as it arrives (the bytes are still in this core's cache);
//  - writer: write(2) + sync_file_range for each full buffer, and the free
//    space checks.
// A third thread for hashing measured slower on the 2-vCPU development VM
// (658 vs 766 MB/s median, docs/native-ingest.md): the data then crosses cores
// and three busy threads plus the client fight over two CPUs.
// A small ring of buffers between them bounds memory per upload and turns a
// slow disk into backpressure on the client (the reader stops reading).
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "digest_io.h"
#include "napi_util.h"

namespace pvctrl {

namespace {

// 4 x 512 KiB measured as fast as larger rings on the development VM
// (docs/native-ingest.md) and keeps memory per upload at 2 MiB.
constexpr size_t kDefaultBufferBytes = 512u << 10;
constexpr size_t kDefaultBuffers = 4;
// A stalled client must not pin a connection, two threads and a temp file forever.
constexpr double kDefaultIdleTimeoutMs = 60000;
// Same cadence as the JS path (src/storage/objects.ts SPACE_RECHECK_BYTES).
constexpr uint64_t kSpaceRecheckBytes = 8u << 20;
// When the socket runs dry, a buffer holding at least this much goes to the
// writer instead of waiting to fill up: the disk keeps busy, and tiny writes
// are still avoided.
constexpr size_t kPartialFlushBytes = 64u << 10;
// 2^53: larger lengths cannot be represented exactly by a JS number.
constexpr double kMaxSafeInteger = 9007199254740992.0;

// First failure wins; `message` replaces the strerror text where errno alone
// would mislead (a clean EOF is not a "reset", a budget is not the disk).
struct Failure {
  int err = 0;
  const char* syscall = "";
  std::string message;
  void Set(int e, const char* call, std::string text = std::string()) {
    if (err == 0) {
      err = e;
      syscall = call;
      message = std::move(text);
    }
  }
};

struct Buffer {
  std::vector<uint8_t> data;
  size_t used = 0;
};

struct Options {
  size_t bufferBytes = kDefaultBufferBytes;
  size_t buffers = kDefaultBuffers;
  int idleTimeoutMs = static_cast<int>(kDefaultIdleTimeoutMs);
  bool earlyWriteback = true;
  bool spaceLimited = false;
  int64_t spaceBudget = 0;
  int64_t spaceReserve = 0;
};

// Everything the two threads share. The JS object owns it and only touches
// `received`, `cancel` and `cancelFd` while the threads run; the rest is read
// on the JS thread after the reader has joined the writer and reported back.
struct Job {
  Options options;
  std::string path;
  int sock = -1;  // our dup of the connection; Bun may close its own fd at any time
  int file = -1;
  int cancelFd = -1;
  EVP_MD_CTX* ctx = nullptr;
  std::vector<uint8_t> prefix;
  uint64_t length = 0;  // bytes still to read from the socket

  std::atomic<uint64_t> received{0};
  std::atomic<bool> cancel{false};
  std::atomic<bool> writeFailed{false};

  Failure readFailure;   // reader thread
  Failure writeFailure;  // writer thread
  Failure finalFailure;  // reader thread, after the join
  bool cancelled = false;
  std::string digest;
  uint64_t written = 0;  // writer thread

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Buffer*> full;
  std::vector<Buffer*> free;
  bool closed = false;
  std::vector<std::unique_ptr<Buffer>> storage;

  // ---- ring

  Buffer* AcquireFree() {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return !free.empty() || cancel.load(std::memory_order_acquire); });
    if (free.empty()) return nullptr;
    Buffer* buffer = free.back();
    free.pop_back();
    buffer->used = 0;
    return buffer;
  }

  void Submit(Buffer* buffer) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      full.push_back(buffer);
    }
    changed.notify_all();
  }

  void Recycle(Buffer* buffer) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      free.push_back(buffer);
    }
    changed.notify_all();
  }

  Buffer* NextFull() {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return !full.empty() || closed; });
    if (full.empty()) return nullptr;
    Buffer* buffer = full.front();
    full.pop_front();
    return buffer;
  }

  void CloseRing() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      closed = true;
    }
    changed.notify_all();
  }

  void WakeAll() {
    {
      std::lock_guard<std::mutex> lock(mutex);
    }
    changed.notify_all();
  }

  // ---- writer thread

  void WriterLoop() {
    int64_t budget = options.spaceBudget;
    uint64_t sinceCheck = 0;
    while (Buffer* buffer = NextFull()) {
      if (!writeFailed.load(std::memory_order_relaxed) && !cancel.load(std::memory_order_acquire)) {
        WriteOne(*buffer, budget, sinceCheck);
      }
      Recycle(buffer);
    }
  }

  void WriteOne(const Buffer& buffer, int64_t& budget, uint64_t& sinceCheck) {
    const size_t size = buffer.used;
    if (options.spaceLimited) {
      // Mirrors the JS path: re-measure every 8 MiB, count down in between,
      // so concurrent uploads cannot together eat into the reserved space.
      sinceCheck += size;
      if (sinceCheck >= kSpaceRecheckBytes) {
        struct statfs stats {};
        if (::fstatfs(file, &stats) == 0) {
          budget = static_cast<int64_t>(stats.f_bfree) * static_cast<int64_t>(stats.f_bsize) - options.spaceReserve;
        }
        sinceCheck = 0;
      }
      budget -= static_cast<int64_t>(size);
      if (budget < 0) {
        writeFailure.Set(ENOSPC, "write", "fd ingest: the upload exceeds the free space available for objects");
        writeFailed.store(true, std::memory_order_relaxed);
        return;
      }
    }
    if (int err = WriteAll(file, buffer.data.data(), size)) {
      writeFailure.Set(err, "write");
      writeFailed.store(true, std::memory_order_relaxed);
      return;
    }
    if (options.earlyWriteback) {
      // Start writeback now so the final fsync only waits for the tail.
      // Advisory: errors resurface at fsync.
      ::sync_file_range(file, static_cast<off_t>(written), static_cast<off_t>(size), SYNC_FILE_RANGE_WRITE);
    }
    written += size;
  }

  // ---- reader thread

  // Hashing stops once a write failed: the rest of the body is only drained
  // so the client can read the error answer instead of a broken pipe.
  void Hash(const uint8_t* data, size_t size) {
    if (writeFailed.load(std::memory_order_relaxed) || readFailure.err != 0) return;
    if (EVP_DigestUpdate(ctx, data, size) != 1) {
      readFailure.Set(EIO, "EVP_DigestUpdate");
    }
  }

  // Returns false when cancelled.
  bool FeedPrefix(Buffer*& current) {
    size_t offset = 0;
    while (offset < prefix.size()) {
      if (current == nullptr && (current = AcquireFree()) == nullptr) return false;
      const size_t take = std::min(prefix.size() - offset, current->data.size() - current->used);
      std::memcpy(current->data.data() + current->used, prefix.data() + offset, take);
      Hash(current->data.data() + current->used, take);
      current->used += take;
      offset += take;
      received.fetch_add(take, std::memory_order_relaxed);
      if (current->used == current->data.size()) {
        Submit(current);
        current = nullptr;
      }
    }
    std::vector<uint8_t>().swap(prefix);
    return true;
  }

  void ReaderLoop(Buffer*& current) {
    using Clock = std::chrono::steady_clock;
    uint64_t remaining = length;
    auto lastData = Clock::now();
    while (remaining > 0 && !cancel.load(std::memory_order_acquire)) {
      if (current == nullptr) {
        // Time spent waiting for the disk is not the client being idle.
        const auto waitStart = Clock::now();
        if ((current = AcquireFree()) == nullptr) return;
        lastData += Clock::now() - waitStart;
      }
      const size_t space = current->data.size() - current->used;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(space, remaining));
      const ssize_t n = ::recv(sock, current->data.data() + current->used, want, MSG_DONTWAIT);
      if (n > 0) {
        const size_t got = static_cast<size_t>(n);
        Hash(current->data.data() + current->used, got);
        current->used += got;
        remaining -= got;
        received.fetch_add(got, std::memory_order_relaxed);
        lastData = Clock::now();
        if (current->used == current->data.size() || remaining == 0) {
          Submit(current);
          current = nullptr;
        }
        continue;
      }
      if (n == 0) {
        readFailure.Set(ECONNRESET, "recv",
                        "fd ingest: the client closed the connection after " +
                            std::to_string(length - remaining) + " of " + std::to_string(length) +
                            " remaining body bytes");
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        readFailure.Set(errno, "recv");
        return;
      }
      if (current->used >= kPartialFlushBytes) {
        Submit(current);
        current = nullptr;
      }
      const auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - lastData).count();
      if (idle >= options.idleTimeoutMs) {
        readFailure.Set(ETIMEDOUT, "poll",
                        "fd ingest: no body bytes for " + std::to_string(options.idleTimeoutMs) + " ms");
        return;
      }
      struct pollfd fds[2] = {{sock, POLLIN, 0}, {cancelFd, POLLIN, 0}};
      const int ready = ::poll(fds, 2, static_cast<int>(options.idleTimeoutMs - idle));
      if (ready < 0 && errno != EINTR) {
        readFailure.Set(errno, "poll");
        return;
      }
      // POLLHUP/POLLERR fall through to recv(), which reports EOF or the error.
    }
  }

  void Run() {
    Buffer* current = nullptr;
    std::thread writer;
    try {
      writer = std::thread([this] { WriterLoop(); });
    } catch (const std::system_error& error) {
      readFailure.Set(error.code().value() != 0 ? error.code().value() : EAGAIN, "pthread_create");
      ::close(sock);
      sock = -1;
      return;
    }
    if (FeedPrefix(current)) ReaderLoop(current);
    if (current != nullptr) {
      if (current->used > 0 && readFailure.err == 0 && !cancel.load(std::memory_order_acquire)) {
        Submit(current);
      } else {
        Recycle(current);
      }
    }
    CloseRing();
    writer.join();
    ::close(sock);
    sock = -1;
    Finish();
  }

  void Finish() {
    if (cancel.load(std::memory_order_acquire)) {
      cancelled = true;
      DiscardFile();
      return;
    }
    if (readFailure.err != 0 || writeFailure.err != 0) return;  // JS decides; abort() unlinks
    if (::fsync(file) != 0) return finalFailure.Set(errno, "fsync");
    const int fd = file;
    file = -1;
    if (::close(fd) != 0 && errno != EINTR) return finalFailure.Set(errno, "close");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(ctx, md, &size) != 1) return finalFailure.Set(EIO, "EVP_DigestFinal_ex");
    digest = Hex(md, size);
  }

  // Returns 0 or the unlink errno (ENOENT counts as done).
  int DiscardFile() {
    if (file >= 0) {
      ::close(file);
      file = -1;
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno;
    return 0;
  }

  ~Job() {
    if (sock >= 0) ::close(sock);
    if (file >= 0) ::close(file);
    if (cancelFd >= 0) ::close(cancelFd);
    if (ctx != nullptr) EVP_MD_CTX_free(ctx);
  }
};

// Unlinks the temp file of a job that is not running; short, so the shared
// thread pool is fine here.
class DiscardTask : public Napi::AsyncWorker {
 public:
  DiscardTask(Napi::Env env, std::shared_ptr<Job> job, std::function<void(Napi::Env, int)> done)
      : Napi::AsyncWorker(env, "pvctrl.fdIngest.discard"), job_(std::move(job)), done_(std::move(done)) {}
  void Execute() override { err_ = job_->DiscardFile(); }
  void OnOK() override { done_(Env(), err_); }
  void OnError(const Napi::Error&) override { done_(Env(), ENOMEM); }

 private:
  std::shared_ptr<Job> job_;
  std::function<void(Napi::Env, int)> done_;
  int err_ = 0;
};

class FdIngest : public Napi::ObjectWrap<FdIngest> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FdIngest",
                       {
                           InstanceMethod<&FdIngest::Run>("run"),
                           InstanceMethod<&FdIngest::Abort>("abort"),
                           InstanceAccessor<&FdIngest::Received>("received"),
                       });
  }

  explicit FdIngest(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FdIngest>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || info.Length() > 2) {
      throw Napi::TypeError::New(env, "FdIngest: expected 1 or 2 arguments, got " + std::to_string(info.Length()));
    }
    job_ = std::make_shared<Job>();
    job_->path = RequirePath(info, 0, "FdIngest", "path");
    if (info.Length() == 2 && !info[1].IsUndefined()) ReadOptions(env, info[1]);

    job_->ctx = EVP_MD_CTX_new();
    if (job_->ctx == nullptr || EVP_DigestInit_ex(job_->ctx, Sha256(), nullptr) != 1) {
      throw Napi::Error::New(env, "FdIngest: cannot initialise SHA-256 context");
    }
    job_->cancelFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (job_->cancelFd < 0) throw ErrnoError(env, "FdIngest", "eventfd", errno);
    // O_EXCL: an existing temp path belongs to someone else; never write through it.
    job_->file = ::open(job_->path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (job_->file < 0) throw ErrnoError(env, "FdIngest", "open", errno, job_->path);
  }

  ~FdIngest() override {
    // Reached only when JS dropped the object and no thread runs (run() holds
    // a reference). An unfinished temp file can never be published: remove it.
    if (job_ && state_ != State::kSucceeded && state_ != State::kDiscarded) job_->DiscardFile();
  }

 private:
  enum class State { kIdle, kRunning, kSucceeded, kFailed, kDiscarding, kDiscarded };

  void ReadOptions(Napi::Env env, Napi::Value value) {
    if (!value.IsObject()) throw Napi::TypeError::New(env, "FdIngest: options must be an object");
    Napi::Object object = value.As<Napi::Object>();
    Options& options = job_->options;
    auto number = [&](const char* key, double min, double max, auto apply) {
      Napi::Value v = object.Get(key);
      if (v.IsUndefined()) return;
      const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : std::nan("");
      if (!(d >= min && d <= max) || std::floor(d) != d) {
        throw Napi::TypeError::New(env, std::string("FdIngest: options.") + key + " must be an integer between " +
                                            std::to_string(static_cast<int64_t>(min)) + " and " +
                                            std::to_string(static_cast<int64_t>(max)));
      }
      apply(d);
    };
    number("bufferBytes", 4096, static_cast<double>(64u << 20), [&](double d) { options.bufferBytes = static_cast<size_t>(d); });
    number("buffers", 2, 64, [&](double d) { options.buffers = static_cast<size_t>(d); });
    number("idleTimeoutMs", 1, INT_MAX, [&](double d) { options.idleTimeoutMs = static_cast<int>(d); });
    number("spaceBudget", 0, kMaxSafeInteger, [&](double d) {
      options.spaceLimited = true;
      options.spaceBudget = static_cast<int64_t>(d);
    });
    number("spaceReserve", 0, kMaxSafeInteger, [&](double d) { options.spaceReserve = static_cast<int64_t>(d); });
    Napi::Value writeback = object.Get("earlyWriteback");
    if (!writeback.IsUndefined()) {
      if (!writeback.IsBoolean()) throw Napi::TypeError::New(env, "FdIngest: options.earlyWriteback must be a boolean");
      options.earlyWriteback = writeback.As<Napi::Boolean>().Value();
    }
  }

  // run(fd, prefix, length): hash + write `prefix`, then exactly `length`
  // bytes read from `fd`; resolves { sha256, size } after fsync + close.
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 3, "fdIngest.run");
    const int fd = RequireFd(info, 0, "fdIngest.run", "fd");
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, "fdIngest.run: prefix must be a Uint8Array");
    }
    const double length = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
    if (!(length >= 0 && length <= kMaxSafeInteger) || std::floor(length) != length) {
      throw Napi::TypeError::New(env, "fdIngest.run: length must be a non-negative safe integer");
    }
    if (state_ != State::kIdle) {
      throw CodedError(env, "fdIngest.run: can only run once, before abort()", "ERR_INGEST_CLOSED");
    }
    struct stat stats {};
    if (::fstat(fd, &stats) != 0) throw ErrnoError(env, "fdIngest.run", "fstat", errno);
    if (!S_ISSOCK(stats.st_mode)) throw ErrnoError(env, "fdIngest.run", "fstat", ENOTSOCK);
    // Our own descriptor for the same connection: the server may destroy the
    // socket (shutdown, an error elsewhere) while we read, and the closed fd
    // number could be reused by another open() before our next recv().
    const int sock = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (sock < 0) throw ErrnoError(env, "fdIngest.run", "fcntl(F_DUPFD_CLOEXEC)", errno);

    Napi::Uint8Array prefix = info[1].As<Napi::Uint8Array>();
    Job& job = *job_;
    job.sock = sock;
    job.length = static_cast<uint64_t>(length);
    // Copied so the caller may reuse or drop its buffer at once.
    job.prefix.assign(prefix.Data(), prefix.Data() + prefix.ByteLength());
    job.storage.reserve(job.options.buffers);
    for (size_t i = 0; i < job.options.buffers; i++) {
      auto buffer = std::make_unique<Buffer>();
      buffer->data.resize(job.options.bufferBytes);
      job.free.push_back(buffer.get());
      job.storage.push_back(std::move(buffer));
    }

    runWaiter_.emplace(Napi::Promise::Deferred::New(env));
    Napi::Promise promise = runWaiter_->Promise();
    tsfn_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                          "pvctrl.fdIngest", 0, 1);
    Ref();  // the JS object must outlive the threads
    state_ = State::kRunning;
    std::shared_ptr<Job> shared = job_;
    Napi::ThreadSafeFunction tsfn = tsfn_;
    try {
      thread_ = std::thread([shared, tsfn, this]() mutable {
        shared->Run();
        tsfn.NonBlockingCall([this](Napi::Env env, Napi::Function) { Complete(env); });
        tsfn.Release();
      });
    } catch (const std::system_error& error) {
      state_ = State::kFailed;
      Unref();
      tsfn_.Release();
      runWaiter_.reset();
      throw ErrnoError(env, "fdIngest.run", "pthread_create", error.code().value());
    }
    return promise;
  }

  // JS thread, once both threads are done.
  void Complete(Napi::Env env) {
    if (thread_.joinable()) thread_.join();
    Unref();
    Job& job = *job_;
    Napi::Promise::Deferred waiter = *runWaiter_;
    runWaiter_.reset();
    if (job.cancel.load(std::memory_order_acquire)) {
      // abort() won, even if the last bytes arrived meanwhile: the caller no
      // longer wants this file.
      waiter.Reject(CodedError(env, "fdIngest: aborted", "ECANCELED").Value());
      if (job.cancelled) {
        state_ = State::kDiscarded;
        SettleAbort(env, 0);
      } else {
        StartDiscard(env);
      }
      return;
    }
    const Failure* failure = job.readFailure.err != 0    ? &job.readFailure
                             : job.writeFailure.err != 0 ? &job.writeFailure
                             : job.finalFailure.err != 0 ? &job.finalFailure
                                                         : nullptr;
    if (failure != nullptr) {
      state_ = State::kFailed;
      Napi::Error error = ErrnoError(env, "fdIngest", failure->syscall, failure->err, job.path);
      if (!failure->message.empty()) error.Set("message", Napi::String::New(env, failure->message));
      waiter.Reject(error.Value());
      return;
    }
    state_ = State::kSucceeded;
    Napi::Object out = Napi::Object::New(env);
    out.Set("sha256", Napi::String::New(env, job.digest));
    out.Set("size", Napi::Number::New(env, static_cast<double>(job.written)));
    waiter.Resolve(out);
  }

  void StartDiscard(Napi::Env env) {
    state_ = State::kDiscarding;
    Ref();
    (new DiscardTask(env, job_, [this](Napi::Env env, int err) {
       state_ = State::kDiscarded;
       SettleAbort(env, err);
       Unref();
     }))->Queue();
  }

  // abort(): stops a running read (run() rejects with ECANCELED) and removes
  // the temp file; after a successful run it removes the finished file (the
  // checksum mismatch path). Idempotent; harmless once the file was renamed.
  Napi::Value Abort(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 0, "fdIngest.abort");
    Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
    if (state_ == State::kDiscarded) {
      deferred.Resolve(env.Undefined());
      return deferred.Promise();
    }
    abortWaiters_.push_back(deferred);
    if (state_ == State::kRunning) {
      if (!job_->cancel.exchange(true, std::memory_order_acq_rel)) {
        const uint64_t one = 1;
        // Wakes the reader's poll(); the flag alone would wait for the idle timeout.
        [[maybe_unused]] ssize_t ignored = ::write(job_->cancelFd, &one, sizeof(one));
        job_->WakeAll();
      }
    } else if (state_ != State::kDiscarding) {
      StartDiscard(env);
    }
    return deferred.Promise();
  }

  void SettleAbort(Napi::Env env, int err) {
    for (auto& deferred : abortWaiters_) {
      if (err != 0) {
        deferred.Reject(ErrnoError(env, "fdIngest.abort", "unlink", err, job_->path).Value());
      } else {
        deferred.Resolve(env.Undefined());
      }
    }
    abortWaiters_.clear();
  }

  Napi::Value Received(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(job_->received.load(std::memory_order_relaxed)));
  }

  std::shared_ptr<Job> job_;
  State state_ = State::kIdle;
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  std::optional<Napi::Promise::Deferred> runWaiter_;
  std::vector<Napi::Promise::Deferred> abortWaiters_;
};

}  // namespace

void InitFdIngest(Napi::Env env, Napi::Object exports) {
  exports.Set("FdIngest", FdIngest::Define(env));
}

}  // namespace pvctrl
