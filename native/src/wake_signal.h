// WakeSignal: how the JS thread wakes a native thread of the addon's own that sleeps in
// poll()/epoll_wait() with no timeout (pidfd_watch.cpp, stream_writer.cpp): an eventfd the
// thread waits on among its other fds. Signal() from any thread; Clear() on the waiting thread
// once woken. Not a polling timer: the thread is scheduled only when something was signalled.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace pvctrl {

class WakeSignal {
 public:
  WakeSignal() = default;
  WakeSignal(const WakeSignal&) = delete;
  WakeSignal& operator=(const WakeSignal&) = delete;
  ~WakeSignal() { Close(); }

  // False with errno set when no eventfd could be made.
  bool Open() {
    fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd_ >= 0;
  }

  int fd() const { return fd_; }

  void Signal() {
    const uint64_t one = 1;
    ssize_t written;
    do written = ::write(fd_, &one, sizeof one);
    while (written < 0 && errno == EINTR);
    // EAGAIN: the counter is already non-zero, so the thread wakes anyway.
  }

  void Clear() {
    uint64_t count;
    (void)!::read(fd_, &count, sizeof count);
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace pvctrl
