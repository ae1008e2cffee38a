// StreamWriter: writes the bodies of long-lived responses (GET /events) on a
// thread of its own, so the event loop never makes a write syscall per
// subscriber (issue 9: 100 subscribers at 1,000 events/s cost the loop a
// socket write each, and the GETs waited behind them). The JS thread only
// appends bytes to a stream's queue; one thread ("pvctrl-streams") sends them
// with MSG_DONTWAIT and, where the peer is slow, waits for EPOLLOUT.
//
// A batch written to many streams is copied once: each stream's queue holds a
// shared reference to it, and the thread sends a queue's chunks with one
// sendmsg(). A copy per stream cost the event loop a malloc each (100 per
// flush), freed on this thread, with the two threads taking turns on the
// allocator's lock.
//
// Each stream works on a dup of the connection's fd: Bun keeps its own fd and
// keeps reading the connection (a client's half-close or close is seen there
// as before); this file only ever writes, and closes only its dup. The
// response head went out through Bun before the stream was opened.
//
// The thread waits in epoll_wait() with no timeout on purpose: a timeout would
// be a periodic wake-up (issue 9). Close and new bytes reach it through an
// eventfd, so it always wakes at once; the only fds it closes are its own dups,
// and only on this thread, so a number reused by the runtime is never touched.
//
// JS API (checked again in src/native/stream-writer.ts before each call):
//   new StreamWriter(onEvent: (id: number, kind: number) => void)
//     kind 1 "drained": the queue of a stream whose write() returned false is empty
//     kind 2 "gone":    the peer went away or a send failed; nothing more is written
//     kind 3 "flushed": everything written before flush() has left
//   open(fd, highWaterBytes) -> id   dups fd; the stream starts empty
//   writeMany(ids: Uint32Array, bytes, queued: Float64Array)
//                                    append bytes to each stream and wake the thread once;
//                                    queued[i] = the stream's queue after it (-1: closed or
//                                    gone); past highWater a "drained" follows once it is empty
//   flush(id)                        ask for "flushed" once the queue is empty
//   close(id)                        forget the stream; its dup is closed on the thread
//   shutdown()                       close every stream and join the thread; idempotent
//   size                             open streams
#include <napi.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include "napi_util.h"
#include "wake_signal.h"

namespace pvctrl {
namespace {

enum EventKind : uint32_t { kDrained = 1, kGone = 2, kFlushed = 3 };

// The epoll key of the eventfd; streams are keyed by their id (never 0).
constexpr uint64_t kWakeKey = 0;

// One batch's bytes, shared by every stream it was written to.
using Chunk = std::shared_ptr<const std::string>;

// Chunks one sendmsg() takes at most (IOV_MAX is 1024; a queue past this is a slow reader's).
constexpr size_t kChunksPerSend = 64;

// A queue's list of chunks keeps up to this capacity between sends; a longer one (a slow
// reader's backlog) is let go once sent.
constexpr size_t kKeepChunkSlots = 256;

struct Stream {
  uint32_t id = 0;
  int fd = -1;
  size_t highWater = 0;
  // Chunks the JS thread appended and the thread has not taken yet, and their bytes; the
  // first chunk's first `headSent` bytes already left (a send the socket cut short).
  std::vector<Chunk> pending;
  size_t pendingBytes = 0;
  size_t headSent = 0;
  // Thread only: the chunks taken for sending (swapped with `pending`, so both keep capacity).
  std::vector<Chunk> sending;
  // Bytes the thread took and has not sent yet (it sends them outside the lock).
  size_t inFlight = 0;
  bool wantDrain = false;
  bool wantFlushed = false;
  // The thread is waiting for EPOLLOUT (the socket buffer was full).
  bool waitingWritable = false;
  // Set by the JS thread (closed) or the thread (gone); either ends all writing.
  bool closed = false;
  bool gone = false;
  // Queued for the thread's next round (so a stream is listed once).
  bool listed = false;

  size_t queued() const { return pendingBytes + inFlight; }
};

struct StreamReport {
  uint32_t id;
  uint32_t kind;
};

class StreamWriter : public Napi::ObjectWrap<StreamWriter> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "StreamWriter",
                       {
                           InstanceMethod<&StreamWriter::Open>("open"),
                           InstanceMethod<&StreamWriter::WriteMany>("writeMany"),
                           InstanceMethod<&StreamWriter::Flush>("flush"),
                           InstanceMethod<&StreamWriter::CloseStream>("close"),
                           InstanceMethod<&StreamWriter::Shutdown>("shutdown"),
                           InstanceAccessor<&StreamWriter::Size>("size"),
                       });
  }

  explicit StreamWriter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StreamWriter>(info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 1, "StreamWriter");
    if (!info[0].IsFunction()) throw Napi::TypeError::New(env, "StreamWriter: onEvent must be a function");
    if (!wake_.Open()) throw ErrnoError(env, "StreamWriter", "eventfd", errno);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      const int err = errno;
      wake_.Close();
      throw ErrnoError(env, "StreamWriter", "epoll_create1", err);
    }
    epoll_event wakeEvent{};
    wakeEvent.events = EPOLLIN;
    wakeEvent.data.u64 = kWakeKey;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_.fd(), &wakeEvent) < 0) {
      const int err = errno;
      wake_.Close();
      ::close(epoll_);
      throw ErrnoError(env, "StreamWriter", "epoll_ctl", err);
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "pvctrl-streams", 0, 1);
    // Streams live by their connections, which the server holds; the writer alone keeps nothing alive.
    tsfn_.Unref(env);
    try {
      thread_ = std::thread([this]() { Run(); });
    } catch (const std::system_error& error) {
      tsfn_.Release();
      wake_.Close();
      ::close(epoll_);
      epoll_ = -1;
      throw Napi::Error::New(env, std::string("StreamWriter: cannot start thread: ") + error.what());
    }
  }

  ~StreamWriter() override { Stop(); }

 private:
  uint32_t RequireId(const Napi::CallbackInfo& info, const char* fn) {
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": id must be a number");
    return info[0].As<Napi::Number>().Uint32Value();
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 2, "open");
    const int fd = RequireFd(info, 0, "open", "fd");
    if (!info[1].IsNumber() || info[1].As<Napi::Number>().DoubleValue() < 0) {
      throw Napi::TypeError::New(env, "open: highWaterBytes must be a non-negative number");
    }
    if (stopped_) throw CodedError(env, "open: the writer is shut down", "ERR_CLOSED");
    const int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0) throw ErrnoError(env, "open", "fcntl(F_DUPFD_CLOEXEC)", errno);
    auto stream = std::make_shared<Stream>();
    stream->fd = dup;
    stream->highWater = static_cast<size_t>(info[1].As<Napi::Number>().DoubleValue());
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stream->id = ++lastId_;
      if (stream->id == kWakeKey) stream->id = ++lastId_;
      streams_[stream->id] = stream;
    }
    // No interest yet: EPOLLHUP and EPOLLERR are reported whatever the mask, which is
    // how a peer that went away while nothing was being written is noticed.
    epoll_event event{};
    event.events = 0;
    event.data.u64 = stream->id;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, dup, &event) < 0) {
      const int err = errno;
      std::lock_guard<std::mutex> lock(mutex_);
      streams_.erase(stream->id);
      ::close(dup);
      throw ErrnoError(env, "open", "epoll_ctl", err);
    }
    return Napi::Number::New(env, stream->id);
  }

  // The same bytes appended to many streams in one call, and one wake-up for them all: the
  // event bus writes one batch to every subscriber at the same position, and a call, a lock
  // and a wake-up per subscriber cost the event loop more than the copies.
  Napi::Value WriteMany(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    RequireArgCount(info, 3, "writeMany");
    if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      throw Napi::TypeError::New(env, "writeMany: ids must be a Uint32Array");
    }
    if (!info[1].IsTypedArray()) throw Napi::TypeError::New(env, "writeMany: bytes must be a Buffer or Uint8Array");
    if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
      throw Napi::TypeError::New(env, "writeMany: queued must be a Float64Array");
    }
    Napi::Uint32Array ids = info[0].As<Napi::Uint32Array>();
    Napi::Uint8Array bytes = info[1].As<Napi::Uint8Array>();
    Napi::Float64Array queued = info[2].As<Napi::Float64Array>();
    if (queued.ElementLength() < ids.ElementLength()) throw Napi::RangeError::New(env, "writeMany: queued is shorter than ids");
    const size_t length = bytes.ByteLength();
    // The one copy, made before the lock is taken.
    const Chunk chunk = std::make_shared<const std::string>(reinterpret_cast<const char*>(bytes.Data()), length);
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t i = 0; i < ids.ElementLength(); ++i) {
        auto it = streams_.find(ids[i]);
        if (it == streams_.end() || it->second->closed || it->second->gone) {
          queued[i] = -1;
          continue;
        }
        Stream& stream = *it->second;
        if (length > 0) {
          stream.pending.push_back(chunk);
          stream.pendingBytes += length;
        }
        queued[i] = static_cast<double>(stream.queued());
        if (stream.queued() > stream.highWater) stream.wantDrain = true;
        List(it->second);
      }
      wake = ClaimWake();
    }
    if (wake) wake_.Signal();
    return env.Undefined();
  }

  Napi::Value Flush(const Napi::CallbackInfo& info) {
    RequireArgCount(info, 1, "flush");
    const uint32_t id = RequireId(info, "flush");
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = streams_.find(id);
      if (it != streams_.end() && !it->second->closed && !it->second->gone) {
        it->second->wantFlushed = true;
        List(it->second);
        wake = ClaimWake();
      }
    }
    if (wake) wake_.Signal();
    return info.Env().Undefined();
  }

  Napi::Value CloseStream(const Napi::CallbackInfo& info) {
    RequireArgCount(info, 1, "close");
    const uint32_t id = RequireId(info, "close");
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = streams_.find(id);
      if (it != streams_.end()) {
        it->second->closed = true;
        closing_.push_back(it->second);
        streams_.erase(it);
        wake = true;
      }
    }
    if (wake) wake_.Signal();
    return info.Env().Undefined();
  }

  Napi::Value Shutdown(const Napi::CallbackInfo& info) {
    Stop();
    return info.Env().Undefined();
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mutex_);
    return Napi::Number::New(info.Env(), static_cast<double>(streams_.size()));
  }

  // Under mutex_: true when the caller must signal the thread (something is listed and no
  // wake-up is on its way yet); the thread clears the claim when it takes the lists.
  bool ClaimWake() {
    if (ready_.empty() || wakePending_) return false;
    wakePending_ = true;
    return true;
  }

  // Under mutex_: put the stream on the thread's list (once); the caller then claims a wake-up.
  void List(const std::shared_ptr<Stream>& stream) {
    if (stream->listed) return;
    stream->listed = true;
    ready_.push_back(stream);
  }

  // JS thread (or the finalizer): the thread only ever waits in epoll_wait(), which the
  // eventfd ends, so the join is immediate.
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.Signal();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& entry : streams_) ::close(entry.second->fd);
    for (auto& stream : closing_) ::close(stream->fd);
    streams_.clear();
    closing_.clear();
    ready_.clear();
    wake_.Close();
    ::close(epoll_);
    epoll_ = -1;
    tsfn_.Release();
  }

  void Notify(uint32_t id, uint32_t kind) {
    tsfn_.NonBlockingCall(new StreamReport{id, kind}, [](Napi::Env env, Napi::Function onEvent, StreamReport* data) {
      const StreamReport report = *data;
      delete data;
      if (env == nullptr) return;  // the environment is going away
      Napi::HandleScope scope(env);
      try {
        onEvent.Call({Napi::Number::New(env, report.id), Napi::Number::New(env, report.kind)});
      } catch (const Napi::Error& error) {
        error.ThrowAsJavaScriptException();
      }
    });
  }

  // Thread: wait for EPOLLOUT on a stream, or stop waiting.
  void WatchWritable(Stream& stream, bool writable) {
    if (stream.waitingWritable == writable) return;
    stream.waitingWritable = writable;
    epoll_event event{};
    event.events = writable ? static_cast<uint32_t>(EPOLLOUT) : 0u;
    event.data.u64 = stream.id;
    (void)epoll_ctl(epoll_, EPOLL_CTL_MOD, stream.fd, &event);
  }

  // Thread: the peer is gone or a send failed; the JS side hears it once.
  void MarkGone(Stream& stream) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stream.gone || stream.closed) return;
      stream.gone = true;
      stream.pending.clear();
      stream.pendingBytes = 0;
      stream.headSent = 0;
      stream.inFlight = 0;
    }
    // Out of the set: a hung-up socket would otherwise be reported on every wait.
    stream.waitingWritable = false;
    (void)epoll_ctl(epoll_, EPOLL_CTL_DEL, stream.fd, nullptr);
    Notify(stream.id, kGone);
  }

  // Thread: send what the stream has queued until it is empty or the socket is full.
  void Send(const std::shared_ptr<Stream>& handle) {
    Stream& stream = *handle;
    std::vector<Chunk>& sending = stream.sending;
    for (;;) {
      size_t skip = 0;  // bytes of sending[0] that already left
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stream.closed || stream.gone) return;
        if (stream.pending.empty()) {
          const bool drained = stream.wantDrain;
          const bool flushed = stream.wantFlushed;
          stream.wantDrain = stream.wantFlushed = false;
          if (drained) Notify(stream.id, kDrained);
          if (flushed) Notify(stream.id, kFlushed);
          WatchWritable(stream, false);
          return;
        }
        sending.swap(stream.pending);
        skip = stream.headSent;
        stream.headSent = 0;
        stream.inFlight = stream.pendingBytes;
        stream.pendingBytes = 0;
      }
      size_t next = 0;  // first chunk not wholly sent
      int failure = 0;
      while (next < sending.size()) {
        iovec parts[kChunksPerSend];
        size_t count = 0;
        for (size_t i = next; i < sending.size() && count < kChunksPerSend; ++i, ++count) {
          const std::string& bytes = *sending[i];
          const size_t from = i == next ? skip : 0;
          parts[count].iov_base = const_cast<char*>(bytes.data() + from);
          parts[count].iov_len = bytes.size() - from;
        }
        msghdr message{};
        message.msg_iov = parts;
        message.msg_iovlen = count;
        const ssize_t sent = ::sendmsg(stream.fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) continue;
        if (sent <= 0) {
          failure = sent < 0 ? errno : EPIPE;
          break;
        }
        // Step over what left: whole chunks, then part of one.
        size_t left = static_cast<size_t>(sent);
        while (left > 0) {
          const size_t rest = sending[next]->size() - skip;
          if (left < rest) {
            skip += left;
            left = 0;
          } else {
            left -= rest;
            skip = 0;
            ++next;
          }
        }
      }
      if (failure != 0 && failure != EAGAIN && failure != EWOULDBLOCK) {
        sending.clear();
        MarkGone(stream);
        return;
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stream.inFlight = 0;
        if (next < sending.size()) {
          // The socket is full: what is left goes first once it is writable again.
          size_t unsent = sending[next]->size() - skip;
          for (size_t i = next + 1; i < sending.size(); ++i) unsent += sending[i]->size();
          stream.pending.insert(stream.pending.begin(), std::make_move_iterator(sending.begin() + static_cast<std::ptrdiff_t>(next)), std::make_move_iterator(sending.end()));
          stream.headSent = skip;
          stream.pendingBytes += unsent;
        }
      }
      // Outside the lock: the last reference to a chunk frees it here.
      sending.clear();
      if (sending.capacity() > kKeepChunkSlots) std::vector<Chunk>().swap(sending);
      if (failure != 0) {
        WatchWritable(stream, true);
        return;
      }
    }
  }

  // Thread: wait for a wake-up or a writable socket, then send what is listed.
  void Run() {
    pthread_setname_np(pthread_self(), "pvctrl-streams");
    std::vector<epoll_event> events(64);
    std::vector<std::shared_ptr<Stream>> work;
    std::vector<std::shared_ptr<Stream>> closing;
    for (;;) {
      const int count = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
      if (count < 0 && errno != EINTR) return;  // EBADF/EINVAL: nothing sensible left to wait on
      // Reset the eventfd before taking the lists: a stream listed after this wakes the next
      // wait, one listed before it is taken below (the other order would lose a wake-up).
      for (int i = 0; i < count; ++i) {
        if (events[i].data.u64 == kWakeKey) wake_.Clear();
      }
      work.clear();
      closing.clear();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) return;
        wakePending_ = false;
        for (auto& stream : ready_) stream->listed = false;
        work.swap(ready_);
        closing.swap(closing_);
        for (int i = 0; i < count; ++i) {
          const uint64_t key = events[i].data.u64;
          if (key == kWakeKey) continue;
          auto it = streams_.find(static_cast<uint32_t>(key));
          if (it == streams_.end()) continue;
          if (events[i].events & (EPOLLHUP | EPOLLERR)) {
            gone_.push_back(it->second);
          } else if (events[i].events & EPOLLOUT) {
            work.push_back(it->second);
          }
        }
      }
      // Only this thread closes the dups, and only here, between sends.
      for (auto& stream : closing) {
        if (!stream->gone) (void)epoll_ctl(epoll_, EPOLL_CTL_DEL, stream->fd, nullptr);
        ::close(stream->fd);
        stream->fd = -1;
      }
      for (auto& stream : gone_) MarkGone(*stream);
      gone_.clear();
      for (auto& stream : work) Send(stream);
    }
  }

  std::mutex mutex_;
  std::unordered_map<uint32_t, std::shared_ptr<Stream>> streams_;
  std::vector<std::shared_ptr<Stream>> ready_;
  std::vector<std::shared_ptr<Stream>> closing_;
  std::vector<std::shared_ptr<Stream>> gone_;  // thread only
  uint32_t lastId_ = 0;
  // A wake-up is on its way (the thread clears it when it takes the lists).
  bool wakePending_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  WakeSignal wake_;
  int epoll_ = -1;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
};

}  // namespace

void InitStreamWriter(Napi::Env env, Napi::Object exports) {
  exports.Set("StreamWriter", StreamWriter::Define(env));
}

}  // namespace pvctrl
