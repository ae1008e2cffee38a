// Hands the clean file pages of the process's own image back to the kernel (issue 10):
// madvise(MADV_PAGEOUT) over every read-only, file-backed mapping in /proc/self/maps -- the
// runtime's code and constants, the embedded program, the addon and the libraries.
//
// Why: most of an idle daemon's resident memory is code that ran once -- loading the
// runtime and the program, the first boot's hashing, starting the containers -- and stays
// resident only because nothing asked for it back (docs/footprint.md: after start-up the
// daemon with the examples drops from about 52 to 33 MiB, and after a round of every kind of
// request it settles near 44 MiB, not 55). The pages are clean: what serving needs comes back
// from the file on first use, a page fault each, the rest stays out. MADV_PAGEOUT is reclaim,
// never a loss of data: pages other processes map too (libc) are skipped by the kernel, and
// anonymous pages in such a mapping (relocations) can only go to swap, if there is any.
//
// It reads /proc/self/maps and walks some hundred MiB of mappings (tens of ms), so it runs on
// a thread of its own (docs/native-threads.md). Kernels before 5.4 lack MADV_PAGEOUT: the
// result says so and nothing else happens.
#include <sys/mman.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "napi_util.h"
#include "own_thread_task.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

namespace pvctrl {

namespace {

// "RssFile:" of /proc/self/status in bytes, or -1 when it cannot be read.
int64_t ResidentFileBytes() {
  FILE* status = std::fopen("/proc/self/status", "re");
  if (status == nullptr) return -1;
  char line[256];
  int64_t kib = -1;
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::sscanf(line, "RssFile: %" SCNd64 " kB", &kib) == 1) break;
  }
  std::fclose(status);
  return kib < 0 ? -1 : kib * 1024;
}

struct PageOutResult {
  bool supported = true;
  uint32_t ranges = 0;
  uint64_t mappedBytes = 0;
  // Mappings gone between reading the list and advising them (another thread unmapped them).
  uint32_t skipped = 0;
  int64_t residentFileBefore = -1;
  int64_t residentFileAfter = -1;
};

class PageOutTask : public OwnThreadTask {
 public:
  explicit PageOutTask(Napi::Env env) : OwnThreadTask(env) {}

 protected:
  void Execute() override {
    result_.residentFileBefore = ResidentFileBytes();
    FILE* maps = std::fopen("/proc/self/maps", "re");
    if (maps == nullptr) {
      failedErrno_ = errno;
      return;
    }
    char* line = nullptr;
    size_t capacity = 0;
    while (getline(&line, &capacity, maps) > 0) {
      uintptr_t start = 0;
      uintptr_t end = 0;
      char perms[5] = {};
      int pathAt = 0;
      // start-end perms offset dev inode path; the path starts at pathAt (0 when absent).
      if (std::sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %*s %*s %*s %n", &start, &end, perms, &pathAt) < 3) continue;
      // Writable mappings may hold the only copy of their data; only a file (a path) can give pages back.
      if (perms[1] == 'w' || pathAt == 0 || line[pathAt] != '/' || end <= start) continue;
      if (madvise(reinterpret_cast<void*>(start), end - start, MADV_PAGEOUT) != 0) {
        if (errno == EINVAL && result_.ranges == 0) {
          result_.supported = false;
          break;
        }
        result_.skipped++;
        continue;
      }
      result_.ranges++;
      result_.mappedBytes += end - start;
    }
    std::free(line);
    std::fclose(maps);
    result_.residentFileAfter = ResidentFileBytes();
  }

  void Failed(const std::string& reason) override { internalFailure_ = reason; }

  void Settle(Napi::Env env) override {
    if (!internalFailure_.empty()) {
      deferred_.Reject(Napi::Error::New(env, "pageOutImage: " + internalFailure_).Value());
      return;
    }
    if (failedErrno_ != 0) {
      deferred_.Reject(ErrnoError(env, "pageOutImage", "open", failedErrno_, "/proc/self/maps").Value());
      return;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("supported", Napi::Boolean::New(env, result_.supported));
    out.Set("ranges", Napi::Number::New(env, result_.ranges));
    out.Set("mappedBytes", Napi::Number::New(env, static_cast<double>(result_.mappedBytes)));
    out.Set("skipped", Napi::Number::New(env, result_.skipped));
    out.Set("residentFileBefore", Napi::Number::New(env, static_cast<double>(result_.residentFileBefore)));
    out.Set("residentFileAfter", Napi::Number::New(env, static_cast<double>(result_.residentFileAfter)));
    deferred_.Resolve(out);
  }

 private:
  PageOutResult result_;
  int failedErrno_ = 0;
  std::string internalFailure_;
};

Napi::Value PageOutImage(const Napi::CallbackInfo& info) {
  RequireArgCount(info, 0, "pageOutImage");
  return OwnThreadTask::Queue(info.Env(), new PageOutTask(info.Env()), "pvctrl.pageOutImage", "pvctrl-pageout");
}

}  // namespace

void InitImagePageOut(Napi::Env env, Napi::Object exports) {
  exports.Set("pageOutImage", Napi::Function::New(env, PageOutImage, "pageOutImage"));
}

}  // namespace pvctrl
