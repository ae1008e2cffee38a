// pvctrl-xconnect: pv-xconnect as a small native process (issue 10).
//
//   pvctrl-xconnect [--socket PATH] [--retry MS] [--verbose]
//
// It does what src/xconnect/main.ts does, with the same flags, environment and output lines
// (docs/xconnect.md): follow pv-ctrl's `GET /events?types=xconnect`, read
// `GET /xconnect-graph` after every change, and keep one listening socket per `unix` link
// inside the consumer whose connections are relayed to the provider's socket.
//
// Why native: a Bun pv-xconnect costs a whole runtime (about 29 MiB RSS, 15 MiB even for an
// empty Bun program) and Bun's own timers wake it at idle. This one is one thread, one epoll
// set and no timer while all is well: it sleeps in epoll_wait until pv-ctrl or a client speaks.
// It depends on libc and libstdc++ only, so it builds for every target the addon builds for.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

// ---------------------------------------------------------------------------------------------
// Settings, output, time

const char kUsage[] =
    "Usage: pv-xconnect [--socket PATH] [--retry MS] [--verbose]\n"
    "  --socket PATH   pv-ctrl's socket (default $PV_CTRL_SOCKET, else /run/pantavisor/pv/pv-ctrl)\n"
    "  --retry MS      first delay before re-subscribing, or re-trying links that could not be set\n"
    "                  up (default 1000, doubling up to 30 s; nothing is timed while all is well)\n"
    "  --verbose       log every relayed connection\n";

constexpr int64_t kMaxRetryMs = 30000;
constexpr int64_t kGraphTimeoutMs = 5000;
constexpr int64_t kStreamHeadTimeoutMs = 10000;
constexpr int64_t kRefusalBodyMs = 2000;
constexpr size_t kMaxGraphAnswer = 4 * 1024 * 1024;
constexpr size_t kMaxEventLine = 4 * 1024 * 1024;
constexpr size_t kMaxHead = 64 * 1024;
constexpr int64_t kFailureLogIntervalMs = 10000;
constexpr size_t kMaxSocketPath = 107;  // sun_path holds 108 bytes including the NUL
constexpr int kMaxSymlinks = 40;
constexpr size_t kRelayBuffer = 64 * 1024;

bool gVerbose = false;

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// One write per line: the supervisor reads our stdout as lines, and a pipe write of one line
// is never interleaved.
void Say(const std::string& message) {
  std::string line = message + "\n";
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, data, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nobody reads our output any more: keep relaying regardless
    data += n;
    left -= static_cast<size_t>(n);
  }
}
void SayError(const std::string& message) { Say("error: " + message); }
void SayDebug(const std::string& message) {
  if (gVerbose) Say(message);
}

// Node's spelling of the common errnos, so messages read as the TypeScript pv-xconnect's did.
std::string ErrnoName(int error) {
  switch (error) {
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EAGAIN: return "EAGAIN";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOTDIR: return "ENOTDIR";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EADDRINUSE: return "EADDRINUSE";
    case ELOOP: return "ELOOP";
    case ECONNRESET: return "ECONNRESET";
    case EPIPE: return "EPIPE";
    case ENOTSOCK: return "ENOTSOCK";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EEXIST: return "EEXIST";
    default: return "errno " + std::to_string(error);
  }
}

std::string SysError(const std::string& what, int error, const std::string& path = "") {
  return what + " " + ErrnoName(error) + (path.empty() ? "" : " " + path) + " (" + std::strerror(error) + ")";
}

// ---------------------------------------------------------------------------------------------
// JSON: just enough for the graph and the event lines (objects, arrays, strings, numbers,
// literals), with a depth limit so a hostile answer cannot exhaust the stack.

struct Json {
  enum class Kind { Null, Bool, Number, String, Array, Object } kind = Kind::Null;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* Get(const char* key) const {
    for (const auto& member : members)
      if (member.first == key) return &member.second;
    return nullptr;
  }
};

class JsonParser {
 public:
  JsonParser(const char* begin, const char* end) : p_(begin), end_(end) {}

  bool ParseDocument(Json& out) {
    if (!Value(out, 0)) return false;
    Space();
    return p_ == end_;
  }

 private:
  const char* p_;
  const char* end_;

  void Space() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool Literal(const char* word) {
    const size_t length = std::strlen(word);
    if (static_cast<size_t>(end_ - p_) < length || std::memcmp(p_, word, length) != 0) return false;
    p_ += length;
    return true;
  }
  static void Utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }
  bool Hex4(uint32_t& out) {
    if (end_ - p_ < 4) return false;
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      out <<= 4;
      if (c >= '0' && c <= '9') out |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') out |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') out |= static_cast<uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }
  bool String(std::string& out) {
    if (p_ >= end_ || *p_ != '"') return false;
    ++p_;
    while (p_ < end_) {
      const char c = *p_++;
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (p_ >= end_) return false;
      const char escaped = *p_++;
      switch (escaped) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t code = 0;
          if (!Hex4(code)) return false;
          if (code >= 0xD800 && code <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
            const char* mark = p_;
            p_ += 2;
            uint32_t low = 0;
            if (Hex4(low) && low >= 0xDC00 && low <= 0xDFFF) code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            else p_ = mark;
          }
          Utf8(out, code);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool Value(Json& out, int depth) {
    if (depth > 64) return false;
    Space();
    if (p_ >= end_) return false;
    const char c = *p_;
    if (c == '{') {
      ++p_;
      out.kind = Json::Kind::Object;
      Space();
      if (p_ < end_ && *p_ == '}') return ++p_, true;
      while (true) {
        Space();
        std::string key;
        if (!String(key)) return false;
        Space();
        if (p_ >= end_ || *p_++ != ':') return false;
        Json value;
        if (!Value(value, depth + 1)) return false;
        out.members.emplace_back(std::move(key), std::move(value));
        Space();
        if (p_ >= end_) return false;
        if (*p_ == ',') { ++p_; continue; }
        if (*p_ == '}') return ++p_, true;
        return false;
      }
    }
    if (c == '[') {
      ++p_;
      out.kind = Json::Kind::Array;
      Space();
      if (p_ < end_ && *p_ == ']') return ++p_, true;
      while (true) {
        Json value;
        if (!Value(value, depth + 1)) return false;
        out.items.push_back(std::move(value));
        Space();
        if (p_ >= end_) return false;
        if (*p_ == ',') { ++p_; continue; }
        if (*p_ == ']') return ++p_, true;
        return false;
      }
    }
    if (c == '"') {
      out.kind = Json::Kind::String;
      return String(out.text);
    }
    if (Literal("true")) { out.kind = Json::Kind::Bool; out.boolean = true; return true; }
    if (Literal("false")) { out.kind = Json::Kind::Bool; return true; }
    if (Literal("null")) { out.kind = Json::Kind::Null; return true; }
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    while (p_ < end_ && ((*p_ >= '0' && *p_ <= '9') || *p_ == '.' || *p_ == 'e' || *p_ == 'E' || *p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == start) return false;
    const std::string digits(start, p_);
    char* parsedEnd = nullptr;
    out.kind = Json::Kind::Number;
    out.number = std::strtod(digits.c_str(), &parsedEnd);
    return parsedEnd == digits.c_str() + digits.size();
  }
};

bool ParseJson(const std::string& text, Json& out) {
  return JsonParser(text.data(), text.data() + text.size()).ParseDocument(out);
}

// ---------------------------------------------------------------------------------------------
// The graph (spec §7.12), validated as src/xconnect/graph.ts validates it.

struct Link {
  std::string consumer;
  int64_t consumerPid = 0;
  std::string provider;
  int64_t providerPid = 0;
  std::string name;
  std::string type;
  bool hasTarget = false;
  std::string target;
  bool hasSocket = false;
  std::string socket;
};

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') { out += '\\'; out += c; }
    else if (static_cast<unsigned char>(c) < 0x20) { char code[8]; std::snprintf(code, sizeof(code), "\\u%04x", c); out += code; }
    else out += c;
  }
  return out + "\"";
}

// What makes a link the same link: any change (a container restarted) means tear down and recreate.
std::string LinkIdentity(const Link& link) {
  return "[" + JsonQuote(link.consumer) + "," + std::to_string(link.consumerPid) + "," + (link.hasTarget ? JsonQuote(link.target) : "null") + "," +
         JsonQuote(link.provider) + "," + std::to_string(link.providerPid) + "," + (link.hasSocket ? JsonQuote(link.socket) : "null") + "]";
}

std::string DescribeLink(const Link& link) {
  return link.name + ": " + link.consumer + ":" + (link.hasTarget ? link.target : "?") + " -> " + link.provider + ":" + (link.hasSocket ? link.socket : "?");
}

std::vector<Link> ParseGraph(const std::string& body) {
  Json document;
  if (!ParseJson(body, document)) throw std::runtime_error("graph is not JSON");
  if (document.kind != Json::Kind::Array) throw std::runtime_error("graph is not an array");
  std::vector<Link> links;
  for (size_t index = 0; index < document.items.size(); ++index) {
    const Json& item = document.items[index];
    const std::string where = "link " + std::to_string(index);
    if (item.kind != Json::Kind::Object) throw std::runtime_error(where + " is not an object");
    auto text = [&](const char* key) {
      const Json* value = item.Get(key);
      if (value == nullptr || value->kind != Json::Kind::String) throw std::runtime_error(where + ": " + key + " is not a string");
      return value->text;
    };
    auto pid = [&](const char* key) {
      const Json* value = item.Get(key);
      if (value == nullptr || value->kind != Json::Kind::Number || value->number != std::floor(value->number) || std::fabs(value->number) > 9e15)
        throw std::runtime_error(where + ": " + key + " is not an integer");
      return static_cast<int64_t>(value->number);
    };
    auto path = [&](const char* key, bool& present, std::string& out) {
      const Json* value = item.Get(key);
      if (value == nullptr || value->kind == Json::Kind::Null) return;
      if (value->kind != Json::Kind::String) throw std::runtime_error(where + ": " + key + " is not a string");
      present = true;
      out = value->text;
    };
    Link link;
    link.consumer = text("consumer");
    link.consumerPid = pid("consumer_pid");
    link.provider = text("provider");
    link.providerPid = pid("provider_pid");
    link.name = text("name");
    link.type = text("type");
    path("target", link.hasTarget, link.target);
    path("socket", link.hasSocket, link.socket);
    links.push_back(std::move(link));
  }
  return links;
}

// ---------------------------------------------------------------------------------------------
// Paths inside a container, through /proc/<pid>/root, with every symlink resolved inside that
// root (src/xconnect/paths.ts explains why the kernel's own resolution is not safe here).

std::string ContainerRoot(int64_t pid) {
  if (pid <= 0) throw std::runtime_error("no container pid (" + std::to_string(pid) + ")");
  return "/proc/" + std::to_string(pid) + "/root";
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : "/") + parts[i];
  return out;
}

std::string ResolveInRoot(const std::string& root, const std::string& path, bool createParents) {
  if (path.empty() || path[0] != '/') throw std::runtime_error(path + ": not an absolute path");
  std::vector<std::string> pending = SplitPath(path);
  std::vector<std::string> resolved;
  int links = 0;
  while (!pending.empty()) {
    const std::string part = pending.front();
    pending.erase(pending.begin());
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    std::vector<std::string> candidateParts = resolved;
    candidateParts.push_back(part);
    const std::string inside = Join(candidateParts);
    const std::string candidate = root + "/" + inside;
    bool isLast = true;
    for (const auto& rest : pending)
      if (!rest.empty() && rest != ".") isLast = false;
    struct stat st {};
    if (::lstat(candidate.c_str(), &st) != 0) {
      if (errno != ENOENT) throw std::runtime_error(SysError("lstat", errno, candidate));
      if (!isLast) {
        if (!createParents) throw std::runtime_error(path + ": " + inside + " does not exist");
        if (::mkdir(candidate.c_str(), 0755) != 0 && errno != EEXIST) throw std::runtime_error(SysError("mkdir", errno, candidate));
      }
      resolved.push_back(part);
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) throw std::runtime_error(path + ": too many symbolic links");
      std::vector<char> target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 1);
      const ssize_t n = ::readlink(candidate.c_str(), target.data(), target.size());
      if (n < 0) throw std::runtime_error(SysError("readlink", errno, candidate));
      const std::string value(target.data(), static_cast<size_t>(n));
      if (!value.empty() && value[0] == '/') resolved.clear();
      std::vector<std::string> more = SplitPath(value);
      pending.insert(pending.begin(), more.begin(), more.end());
      continue;
    }
    if (!isLast && !S_ISDIR(st.st_mode)) throw std::runtime_error(path + ": " + inside + " is not a directory");
    resolved.push_back(part);
  }
  return root + "/" + Join(resolved);
}

// ---------------------------------------------------------------------------------------------
// The event loop: one epoll set. Objects are freed only between batches, so an event for an
// object closed earlier in the same batch is recognised (closed_) and dropped.

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void OnEvents(uint32_t events) = 0;
  bool closed_ = false;
};

int gEpoll = -1;
std::vector<std::unique_ptr<Handler>> gGraveyard;

void Watch(int fd, Handler* handler, uint32_t events) {
  epoll_event event{};
  event.events = events;
  event.data.ptr = handler;
  if (::epoll_ctl(gEpoll, EPOLL_CTL_ADD, fd, &event) != 0) throw std::runtime_error(SysError("epoll_ctl", errno));
}

void CloseFd(int& fd) {
  if (fd < 0) return;
  ::epoll_ctl(gEpoll, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  fd = -1;
}

// A non-blocking connect to a Unix socket: it completes (or fails) in the call, which also
// avoids the readable-and-hung-up race src/xconnect/connect-unix.ts describes.
int ConnectUnix(const std::string& path) {
  if (path.size() > kMaxSocketPath) throw std::runtime_error(SysError("connect", ENAMETOOLONG, path));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(SysError("socket", errno));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1)) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error(SysError("connect", error, path));
  }
  return fd;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    // A fresh connection's socket buffer holds a request line many times over.
    if (n < 0) throw std::runtime_error(SysError("write", errno));
    done += static_cast<size_t>(n);
  }
}

// Out of descriptors, a pending connection would make the level-triggered listener report it
// again at once, for ever (a busy loop). One descriptor is kept in reserve to accept it and
// close it: that client sees its connection end, and the loop sleeps again.
int gSpareFd = -1;

void ReserveSpareFd() {
  if (gSpareFd < 0) gSpareFd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

bool RefuseOnePending(int listenFd) {
  if (gSpareFd < 0) return false;
  ::close(gSpareFd);
  gSpareFd = -1;
  const int refused = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
  if (refused >= 0) ::close(refused);
  ReserveSpareFd();
  return refused >= 0;
}

// ---------------------------------------------------------------------------------------------
// One relayed connection: bytes copied both ways with back-pressure (a direction stops reading
// while its buffer waits for the other side), half-closes passed on, any error ends both.

class UnixLink;

class RelayPair {
 public:
  class Side : public Handler {
   public:
    Side(RelayPair* pair, bool consumer) : pair_(pair), consumer_(consumer) {}
    void OnEvents(uint32_t) override { pair_->Pump(); }
    RelayPair* pair_;
    bool consumer_;
  };

  RelayPair(UnixLink* link, int client, int upstream);
  ~RelayPair() { Close(); }
  void Pump();
  void Close();
  bool done() const { return done_; }

 private:
  struct Direction {
    int* from;
    int* to;
    std::vector<char> buffer;
    size_t start = 0;
    size_t end = 0;
    bool eof = false;
    bool shut = false;
    bool consumerSide;  // `from` is the consumer's connection
  };
  bool Move(Direction& direction, bool& failed);
  void Fail(bool consumerSide, int error);

  UnixLink* link_;
  int client_;
  int upstream_;
  Side clientSide_;
  Side upstreamSide_;
  Direction toProvider_;
  Direction toConsumer_;
  bool done_ = false;
};

// ---------------------------------------------------------------------------------------------
// One `unix` link: a listening socket at the consumer's target, every connection relayed.

class UnixLink : public Handler {
 public:
  static std::unique_ptr<UnixLink> Open(const Link& link);
  ~UnixLink() override { CloseListener(); }

  bool Healthy() const {
    if (listenFd_ < 0) return false;
    struct stat st {};
    return ::lstat(listenPath_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode_;
  }

  void Close(const std::string& reason) {
    // Kept alive until the batch ends: an event for one of their sides may still be in it.
    for (auto& pair : pairs_) {
      pair->Close();
      gGraveyard.push_back(std::unique_ptr<Handler>(new PairHolder(std::move(pair))));
    }
    pairs_.clear();
    CloseListener();
    // The path may hold someone else's socket after a consumer restart: remove only ours.
    struct stat st {};
    if (::lstat(listenPath_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode_) ::unlink(listenPath_.c_str());
    Say("link " + DescribeLink(link_) + " down (" + reason + "; " + std::to_string(relayed_) + " connections relayed)");
  }

  void OnEvents(uint32_t events) override {
    if ((events & (EPOLLERR | EPOLLHUP)) != 0 && (events & EPOLLIN) == 0) {
      SayError("link " + DescribeLink(link_) + ": listener failed");
      CloseListener();
      return;
    }
    while (listenFd_ >= 0) {
      const int client = ::accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if ((errno == EMFILE || errno == ENFILE) && RefuseOnePending(listenFd_)) {
          Failed("out of file descriptors: a connection was refused");
          continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) Failed(SysError("accept", errno));
        break;
      }
      Relay(client);
    }
    Sweep();
  }

  void Failed(const std::string& message) {
    ++failures_;
    const int64_t now = NowMs();
    if (lastFailureLog_ != 0 && now - lastFailureLog_ < kFailureLogIntervalMs) return;
    const std::string repeated = failures_ > 1 ? " (" + std::to_string(failures_) + " failures since the last report)" : "";
    SayError("link " + DescribeLink(link_) + ": " + message + repeated);
    lastFailureLog_ = now;
    failures_ = 0;
  }

  /** Closed pairs leave the list here, outside their own callbacks. */
  void Sweep() {
    for (auto it = pairs_.begin(); it != pairs_.end();) {
      if ((*it)->done()) {
        gGraveyard.push_back(std::unique_ptr<Handler>(new PairHolder(std::move(*it))));
        it = pairs_.erase(it);
      } else {
        ++it;
      }
    }
  }

  const Link& link() const { return link_; }
  const std::string& identity() const { return identity_; }

 private:
  // Keeps a finished pair alive until the batch that may still name its sides is over.
  struct PairHolder : Handler {
    explicit PairHolder(std::unique_ptr<RelayPair> pair) : pair_(std::move(pair)) {}
    void OnEvents(uint32_t) override {}
    std::unique_ptr<RelayPair> pair_;
  };

  UnixLink(Link link, std::string listenPath, int fd, ino_t inode)
      : link_(std::move(link)), identity_(LinkIdentity(link_)), listenPath_(std::move(listenPath)), listenFd_(fd), inode_(inode) {}

  void CloseListener() { CloseFd(listenFd_); }

  void Relay(int client) {
    int upstream = -1;
    try {
      upstream = ConnectUnix(ResolveInRoot(ContainerRoot(link_.providerPid), link_.socket, false));
    } catch (const std::exception& error) {
      Failed(std::string("provider socket: ") + error.what());
      ::close(client);
      return;
    }
    ++relayed_;
    Succeeded();
    SayDebug("link " + link_.name + ": connection relayed");
    try {
      pairs_.push_back(std::make_unique<RelayPair>(this, client, upstream));
    } catch (const std::exception& error) {
      CloseFd(client);
      CloseFd(upstream);
      Failed(std::string("relay: ") + error.what());
      return;
    }
    pairs_.back()->Pump();
  }

  void Succeeded() {
    if (lastFailureLog_ == 0 && failures_ == 0) return;
    Say("link " + DescribeLink(link_) + ": provider reachable again");
    lastFailureLog_ = 0;
    failures_ = 0;
  }

  Link link_;
  std::string identity_;
  std::string listenPath_;
  int listenFd_;
  ino_t inode_;
  std::vector<std::unique_ptr<RelayPair>> pairs_;
  uint64_t relayed_ = 0;
  int failures_ = 0;
  int64_t lastFailureLog_ = 0;
};

RelayPair::RelayPair(UnixLink* link, int client, int upstream)
    : link_(link), client_(client), upstream_(upstream), clientSide_(this, true), upstreamSide_(this, false) {
  toProvider_.from = &client_;
  toProvider_.to = &upstream_;
  toProvider_.consumerSide = true;
  toConsumer_.from = &upstream_;
  toConsumer_.to = &client_;
  toConsumer_.consumerSide = false;
  // Edge-triggered: Pump() always moves what it can in both directions until the kernel says
  // EAGAIN, so every stop is armed by an edge and nothing spins on a hung-up peer.
  const uint32_t interest = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  Watch(client_, &clientSide_, interest);
  Watch(upstream_, &upstreamSide_, interest);
}

void RelayPair::Fail(bool consumerSide, int error) {
  if (consumerSide) SayDebug("link " + link_->link().name + ": consumer side: " + ErrnoName(error));
  else link_->Failed("provider side: " + SysError("relay", error));
  Close();
}

// Moves what it can in one direction; true when something happened.
bool RelayPair::Move(Direction& d, bool& failed) {
  bool progress = false;
  if (d.start == d.end && !d.eof && *d.from >= 0) {
    if (d.buffer.empty()) d.buffer.resize(kRelayBuffer);
    const ssize_t n = ::read(*d.from, d.buffer.data(), d.buffer.size());
    if (n > 0) {
      d.start = 0;
      d.end = static_cast<size_t>(n);
      progress = true;
    } else if (n == 0) {
      d.eof = true;
      progress = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      failed = true;
      Fail(d.consumerSide, errno);
      return false;
    }
  }
  if (d.start < d.end) {
    const ssize_t n = ::send(*d.to, d.buffer.data() + d.start, d.end - d.start, MSG_NOSIGNAL);
    if (n > 0) {
      d.start += static_cast<size_t>(n);
      progress = true;
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      failed = true;
      Fail(!d.consumerSide, errno);
      return false;
    }
  }
  if (d.start == d.end && d.eof && !d.shut) {
    // Pass the half-close on: the other side may still answer.
    ::shutdown(*d.to, SHUT_WR);
    d.shut = true;
    d.buffer.clear();
    d.buffer.shrink_to_fit();
    progress = true;
  }
  return progress;
}

void RelayPair::Pump() {
  if (done_) return;
  bool failed = false;
  bool progress = true;
  while (progress && !failed) {
    progress = Move(toProvider_, failed);
    if (!failed) progress = Move(toConsumer_, failed) || progress;
  }
  if (!failed && toProvider_.shut && toConsumer_.shut) Close();
  if (done_) link_->Sweep();
}

void RelayPair::Close() {
  if (done_) return;
  done_ = true;
  clientSide_.closed_ = true;
  upstreamSide_.closed_ = true;
  CloseFd(client_);
  CloseFd(upstream_);
}

std::unique_ptr<UnixLink> UnixLink::Open(const Link& link) {
  const std::string listenPath = ResolveInRoot(ContainerRoot(link.consumerPid), link.target, true);
  if (listenPath.size() > kMaxSocketPath) throw std::runtime_error(listenPath + ": longer than a socket path may be");
  // A socket left by an earlier run (or a killed pv-xconnect) blocks bind; anything else is not ours to delete.
  struct stat st {};
  if (::lstat(listenPath.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) throw std::runtime_error(listenPath + " exists and is not a socket");
    ::unlink(listenPath.c_str());
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(SysError("socket", errno));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, listenPath.data(), listenPath.size());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + listenPath.size() + 1)) != 0 ||
      ::listen(fd, 511) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error(SysError("listen", error, listenPath));
  }
  // The consumer may run its client as any user; access is decided by who gets the path.
  ::chmod(listenPath.c_str(), 0666);
  if (::lstat(listenPath.c_str(), &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw std::runtime_error(SysError("lstat", error, listenPath));
  }
  std::unique_ptr<UnixLink> opened(new UnixLink(link, listenPath, fd, st.st_ino));
  Watch(fd, opened.get(), EPOLLIN);
  Say("link " + DescribeLink(link) + " up (pids " + std::to_string(link.consumerPid) + " -> " + std::to_string(link.providerPid) + ", listening on " + listenPath + ")");
  return opened;
}

// ---------------------------------------------------------------------------------------------
// The reconciler: each graph turned into the set of live links (src/xconnect/reconciler.ts).

class Reconciler {
 public:
  int unset() const { return failedOpens_; }

  void Apply(const std::vector<Link>& graph) {
    std::vector<std::pair<std::string, const Link*>> desired;
    auto find = [&](const std::string& key) -> const Link* {
      for (const auto& entry : desired)
        if (entry.first == key) return entry.second;
      return nullptr;
    };
    for (const Link& link : graph) {
      // Only unix links for now; rest, dbus, drm, wayland and input need their own proxies.
      if (link.type != "unix") {
        SayOnce("type:" + LinkIdentity(link), "link " + DescribeLink(link) + ": type " + link.type + " not supported yet, skipped", false);
        continue;
      }
      if (link.consumerPid <= 0 || link.providerPid <= 0) continue;
      if (!link.hasTarget || !link.hasSocket) {
        SayOnce("path:" + LinkIdentity(link), "link " + DescribeLink(link) + ": needs both a target and a socket, skipped", false);
        continue;
      }
      const std::string key = link.consumer + std::string(1, '\0') + link.target;
      if (const Link* taken = find(key)) {
        SayOnce("dup:" + LinkIdentity(link), "link " + DescribeLink(link) + ": " + link.target + " in " + link.consumer + " already served by " + taken->provider + ", skipped", false);
        continue;
      }
      desired.emplace_back(key, &link);
    }

    for (auto it = links_.begin(); it != links_.end();) {
      const Link* wanted = find(it->first);
      std::string reason;
      if (wanted == nullptr) reason = "no longer in the graph or a container stopped";
      else if (LinkIdentity(*wanted) != it->second->identity()) reason = "a container restarted";
      else if (!it->second->Healthy()) reason = "its socket went away";
      if (reason.empty()) {
        ++it;
        continue;
      }
      it->second->Close(reason);
      Retire(std::move(it->second));
      it = links_.erase(it);
    }

    failedOpens_ = 0;
    for (const auto& entry : desired) {
      if (links_.count(entry.first) != 0) continue;
      try {
        links_[entry.first] = UnixLink::Open(*entry.second);
        said_.erase("open:" + entry.first);
      } catch (const std::exception& error) {
        ++failedOpens_;
        // Retried by the next pass; said again only when the reason changes.
        SayOnce("open:" + entry.first, "link " + DescribeLink(*entry.second) + ": cannot set up: " + error.what(), true);
      }
    }
  }

  void CloseAll(const std::string& reason) {
    for (auto& entry : links_) {
      entry.second->Close(reason);
      Retire(std::move(entry.second));
    }
    links_.clear();
  }

 private:
  static void Retire(std::unique_ptr<UnixLink> link) {
    link->closed_ = true;
    gGraveyard.push_back(std::move(link));
  }

  void SayOnce(const std::string& key, const std::string& message, bool error) {
    auto found = said_.find(key);
    if (found != said_.end() && found->second == message) return;
    said_[key] = message;
    if (error) SayError(message);
    else Say(message);
  }

  std::map<std::string, std::unique_ptr<UnixLink>> links_;
  std::map<std::string, std::string> said_;
  int failedOpens_ = 0;
};

// ---------------------------------------------------------------------------------------------
// HTTP over pv-ctrl's socket: a response head, then a body raw or chunked.

struct ResponseHead {
  int status = 0;
  std::string statusLine;
  bool chunked = false;
  long contentLength = -1;
};

bool ParseHead(const std::string& head, ResponseHead& out) {
  const size_t lineEnd = head.find("\r\n");
  out.statusLine = head.substr(0, lineEnd);
  if (out.statusLine.compare(0, 7, "HTTP/1.") != 0 || out.statusLine.size() < 12) return false;
  out.status = std::atoi(out.statusLine.c_str() + 9);
  size_t at = lineEnd == std::string::npos ? head.size() : lineEnd + 2;
  while (at < head.size()) {
    size_t end = head.find("\r\n", at);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(at, end - at);
    at = end + 2;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value[0] == ' ' || value[0] == '\t')) value.erase(0, 1);
    for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) out.chunked = true;
    if (name == "content-length") out.contentLength = std::atol(value.c_str());
  }
  return true;
}

/** Chunked transfer coding → the body's bytes, fed in pieces of any size. */
class ChunkedDecoder {
 public:
  bool ended() const { return ended_; }
  /** Appends decoded bytes to `out`; false on a malformed chunk. */
  bool Feed(const char* data, size_t size, std::string& out) {
    pending_.append(data, size);
    size_t at = 0;
    while (at < pending_.size() && !ended_) {
      if (left_ > 0) {
        const size_t take = std::min(left_, pending_.size() - at);
        out.append(pending_, at, take);
        at += take;
        left_ -= take;
        continue;
      }
      const size_t end = pending_.find("\r\n", at);
      if (end == std::string::npos) {
        if (pending_.size() - at > 1024) return false;
        break;
      }
      std::string sizeText = pending_.substr(at, end - at);
      at = end + 2;
      const size_t semicolon = sizeText.find(';');
      if (semicolon != std::string::npos) sizeText.resize(semicolon);
      while (!sizeText.empty() && (sizeText.back() == ' ' || sizeText.back() == '\t')) sizeText.pop_back();
      if (sizeText.empty()) continue;  // the CRLF after a chunk's data
      char* parsedEnd = nullptr;
      const unsigned long long chunk = std::strtoull(sizeText.c_str(), &parsedEnd, 16);
      if (*parsedEnd != '\0') return false;
      if (chunk == 0) ended_ = true;
      left_ = static_cast<size_t>(chunk);
    }
    pending_.erase(0, at);
    return true;
  }

 private:
  std::string pending_;
  size_t left_ = 0;
  bool ended_ = false;
};

/** `GET /xconnect-graph HTTP/1.0`, one connection per request (spec §14); the answer ends at close. */
class GraphFetch : public Handler {
 public:
  using Done = void (*)(bool ok, std::vector<Link> links, const std::string& error);

  GraphFetch(const std::string& socket, Done done) : socket_(socket), done_(done), deadline_(NowMs() + kGraphTimeoutMs) {}
  ~GraphFetch() override { CloseFd(fd_); }

  void Start() {
    try {
      fd_ = ConnectUnix(socket_);
      WriteAll(fd_, "GET /xconnect-graph HTTP/1.0\r\nHost: localhost\r\n\r\n");
      Watch(fd_, this, EPOLLIN | EPOLLRDHUP);
    } catch (const std::exception& error) {
      Finish(false, error.what());
    }
  }

  int64_t deadline() const { return closed_ ? -1 : deadline_; }
  void Expire() { Finish(false, "no answer from " + socket_ + " within " + std::to_string(kGraphTimeoutMs) + " ms"); }

  void OnEvents(uint32_t) override {
    char buffer[16384];
    while (!closed_) {
      const ssize_t n = ::read(fd_, buffer, sizeof(buffer));
      if (n > 0) {
        answer_.append(buffer, static_cast<size_t>(n));
        if (answer_.size() > kMaxGraphAnswer) return Finish(false, "answer too large");
        continue;
      }
      if (n == 0) return Finish(true, "");
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) Finish(false, SysError("read", errno, socket_));
      return;
    }
  }

 private:
  void Finish(bool complete, const std::string& error) {
    if (closed_) return;
    closed_ = true;
    CloseFd(fd_);
    if (!complete) return done_(false, {}, error);
    const size_t headEnd = answer_.find("\r\n\r\n");
    ResponseHead head;
    if (headEnd == std::string::npos || !ParseHead(answer_.substr(0, headEnd), head)) return done_(false, {}, "truncated answer");
    std::string body = answer_.substr(headEnd + 4);
    if (head.status != 200) {
      while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) body.pop_back();
      return done_(false, {}, head.statusLine + (body.empty() ? "" : " " + body));
    }
    try {
      return done_(true, ParseGraph(body), "");
    } catch (const std::exception& failure) {
      return done_(false, {}, failure.what());
    }
  }

  std::string socket_;
  Done done_;
  int64_t deadline_;
  int fd_ = -1;
  std::string answer_;
};

// ---------------------------------------------------------------------------------------------
// The program: the event stream, the graph passes, the retries, the stop.

struct State {
  std::string socket;
  int64_t firstRetryMs = 1000;
  pid_t parent = 0;
  bool stopping = false;
  Reconciler reconciler;

  // Graph passes: asks during a pass make one more pass after it.
  GraphFetch* fetch = nullptr;
  bool passAgain = false;
  int64_t graphRetryMs = 1000;
  int64_t graphRetryAt = -1;
  std::string lastGraphError;

  // The event stream.
  int streamFd = -1;
  bool streamHeadDone = false;
  bool streamRefused = false;
  int64_t streamHeadDeadline = -1;
  int64_t refusalDeadline = -1;
  ResponseHead streamHead;
  std::string streamBuffer;
  std::string streamLine;
  ChunkedDecoder chunks;
  bool haveSince = false;
  int64_t since = 0;
  int64_t streamRetryMs = 1000;
  int64_t streamRetryAt = -1;
  std::string lastStreamError;
};

State gState;

void RequestPass();

void PassDone(bool ok, std::vector<Link> links, const std::string& error) {
  State& s = gState;
  s.fetch = nullptr;
  bool complete = false;
  if (ok) {
    if (!s.lastGraphError.empty()) Say("graph available again");
    s.lastGraphError.clear();
    if (!s.stopping) s.reconciler.Apply(links);
    complete = s.reconciler.unset() == 0;
  } else {
    // Keep the links we have: a busy or restarting pv-ctrl does not stop the containers.
    if (error != s.lastGraphError) SayError("cannot read the graph: " + error);
    s.lastGraphError = error;
  }
  if (s.stopping) return;
  if (s.passAgain) {
    s.passAgain = false;
    RequestPass();
    return;
  }
  if (complete) {
    s.graphRetryMs = s.firstRetryMs;
    return;
  }
  s.graphRetryAt = NowMs() + s.graphRetryMs;
  s.graphRetryMs = std::min(s.graphRetryMs * 2, kMaxRetryMs);
}

void RequestPass() {
  State& s = gState;
  s.graphRetryAt = -1;
  if (s.fetch != nullptr) {
    s.passAgain = true;
    return;
  }
  auto fetch = std::make_unique<GraphFetch>(s.socket, PassDone);
  s.fetch = fetch.get();
  // Owned by the graveyard once finished; until then by this holder.
  static std::unique_ptr<GraphFetch> current;
  if (current) gGraveyard.push_back(std::move(current));
  current = std::move(fetch);
  current->Start();
}

void StreamEnded(const std::string& error);

class StreamHandler : public Handler {
 public:
  void OnEvents(uint32_t) override;
};
StreamHandler gStreamHandler;

void CloseStream() {
  CloseFd(gState.streamFd);
  gState.streamHeadDeadline = -1;
  gState.refusalDeadline = -1;
}

void OpenStream() {
  State& s = gState;
  if (getppid() != s.parent) {
    // We run in our own process group, so a pv-ctrl that died without stopping us would leave
    // us serving a stale graph next to its successor's pv-xconnect.
    s.stopping = true;
    Say("pv-ctrl (pid " + std::to_string(s.parent) + ") is gone: closing links");
    return;
  }
  s.streamRetryAt = -1;
  s.streamHeadDone = false;
  s.streamRefused = false;
  s.streamBuffer.clear();
  s.streamLine.clear();
  s.chunks = ChunkedDecoder();
  try {
    s.streamFd = ConnectUnix(s.socket);
    const std::string path = "/events?types=xconnect" + (s.haveSince ? "&since=" + std::to_string(s.since) : std::string());
    WriteAll(s.streamFd, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nAccept: application/x-ndjson\r\n\r\n");
    Watch(s.streamFd, &gStreamHandler, EPOLLIN | EPOLLRDHUP);
    s.streamHeadDeadline = NowMs() + kStreamHeadTimeoutMs;
  } catch (const std::exception& error) {
    CloseStream();
    StreamEnded(s.socket + ": " + error.what());
  }
}

void StreamEnded(const std::string& error) {
  State& s = gState;
  CloseStream();
  if (!error.empty()) {
    if (error != s.lastStreamError) SayError("event stream: " + error);
    s.lastStreamError = error;
  }
  if (s.stopping) return;
  if (getppid() != s.parent) {
    s.stopping = true;
    Say("pv-ctrl (pid " + std::to_string(s.parent) + ") is gone: closing links");
    return;
  }
  // pv-ctrl restarts or is busy: subscribe again after a pause that grows while it stays away.
  s.streamRetryAt = NowMs() + s.streamRetryMs;
  s.streamRetryMs = std::min(s.streamRetryMs * 2, kMaxRetryMs);
}

// Body bytes of the stream: NDJSON lines, each an event whose `seq` we resume after.
bool TakeEventBytes(const std::string& bytes) {
  State& s = gState;
  for (const char c : bytes) {
    if (c != '\n') {
      s.streamLine += c;
      if (s.streamLine.size() > kMaxEventLine) return false;
      continue;
    }
    if (s.streamLine.empty()) continue;
    Json event;
    const bool parsed = ParseJson(s.streamLine, event) && event.kind == Json::Kind::Object;
    s.streamLine.clear();
    if (!parsed) return false;
    const Json* seq = event.Get("seq");
    if (seq != nullptr && seq->kind == Json::Kind::Number) {
      s.haveSince = true;
      s.since = static_cast<int64_t>(seq->number);
    }
    const Json* type = event.Get("type");
    // A restarted pv-ctrl answers an old number with `reset`, which only asks for a pass.
    if (type != nullptr && type->kind == Json::Kind::String && (type->text == "xconnect" || type->text == "reset")) RequestPass();
  }
  return true;
}

// Body bytes after the head: decoded (chunked or raw) and split into events. False ends the stream.
bool FeedStreamBody(const char* data, size_t size) {
  State& s = gState;
  std::string decoded;
  if (!s.streamHead.chunked) decoded.assign(data, size);
  else if (!s.chunks.Feed(data, size, decoded)) {
    StreamEnded("bad chunk in the event stream");
    return false;
  }
  if (!TakeEventBytes(decoded)) {
    StreamEnded("bad event line");
    return false;
  }
  if (s.chunks.ended()) {
    StreamEnded("");
    return false;
  }
  return true;
}

void StreamHandler::OnEvents(uint32_t) {
  State& s = gState;
  char buffer[16384];
  while (s.streamFd >= 0) {
    const ssize_t n = ::read(s.streamFd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return StreamEnded(SysError("read", errno, s.socket));
    }
    if (n == 0) {
      if (s.streamRefused) return StreamEnded("GET /events: " + std::to_string(s.streamHead.status) + " " + s.streamBuffer);
      return StreamEnded(s.streamHeadDone ? "" : "connection closed before the answer");
    }
    if (s.streamHeadDone && !s.streamRefused) {
      if (!FeedStreamBody(buffer, static_cast<size_t>(n))) return;
      continue;
    }
    s.streamBuffer.append(buffer, static_cast<size_t>(n));
    if (s.streamRefused) {
      if (s.streamHead.contentLength >= 0 && s.streamBuffer.size() >= static_cast<size_t>(s.streamHead.contentLength))
        return StreamEnded("GET /events: " + std::to_string(s.streamHead.status) + " " + s.streamBuffer);
      if (s.streamBuffer.size() > kMaxHead) return StreamEnded("GET /events: " + std::to_string(s.streamHead.status));
      continue;
    }
    const size_t end = s.streamBuffer.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (s.streamBuffer.size() > kMaxHead) return StreamEnded("answer head too large");
      continue;
    }
    s.streamHeadDone = true;
    s.streamHeadDeadline = -1;
    if (!ParseHead(s.streamBuffer.substr(0, end), s.streamHead)) return StreamEnded("bad answer head");
    const std::string rest = s.streamBuffer.substr(end + 4);
    s.streamBuffer.clear();
    if (s.streamHead.status != 200) {
      // A bad filter or not allowed: keep its words for the message, briefly.
      s.streamRefused = true;
      s.streamBuffer = rest;
      s.refusalDeadline = NowMs() + kRefusalBodyMs;
      continue;
    }
    if (!s.lastStreamError.empty()) Say("event stream available again");
    s.lastStreamError.clear();
    s.streamRetryMs = s.firstRetryMs;
    // Whatever changed while we were not subscribed: one pass now, then one per change.
    RequestPass();
    if (!rest.empty() && !FeedStreamBody(rest.data(), rest.size())) return;
  }
}

int MissingValue(const std::string& option) {
  std::printf("pv-xconnect: %s needs a value\n%s", option.c_str(), kUsage);
  return 2;
}

// -1: run; otherwise the exit code (help, or a bad command line).
int ParseSettings(int argc, char** argv) {
  State& s = gState;
  const char* socket = std::getenv("PV_CTRL_SOCKET");
  s.socket = socket != nullptr && *socket != '\0' ? socket : "/run/pantavisor/pv/pv-ctrl";
  const char* retryEnv = std::getenv("PV_XCONNECT_RETRY_MS");
  std::string retry = retryEnv != nullptr ? retryEnv : "1000";
  const char* verboseEnv = std::getenv("PV_XCONNECT_VERBOSE");
  gVerbose = verboseEnv != nullptr && std::strcmp(verboseEnv, "1") == 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& name) -> const char* {
      if (arg.size() > name.size() && arg.compare(0, name.size() + 1, name + "=") == 0) return argv[i] + name.size() + 1;
      if (i + 1 >= argc) return nullptr;
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--verbose") {
      gVerbose = true;
    } else if (arg == "--socket" || arg.compare(0, 9, "--socket=") == 0) {
      const char* v = value("--socket");
      if (v == nullptr) return MissingValue(arg);
      s.socket = v;
    } else if (arg == "--retry" || arg.compare(0, 8, "--retry=") == 0) {
      const char* v = value("--retry");
      if (v == nullptr) return MissingValue(arg);
      retry = v;
    } else {
      std::printf("pv-xconnect: unknown option %s\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  char* end = nullptr;
  const double retryMs = std::strtod(retry.c_str(), &end);
  if (retry.empty() || *end != '\0' || !std::isfinite(retryMs) || retryMs < 50) {
    std::printf("pv-xconnect: bad retry delay %s\n%s", retry.c_str(), kUsage);
    return 2;
  }
  s.firstRetryMs = static_cast<int64_t>(retryMs);
  s.graphRetryMs = s.firstRetryMs;
  s.streamRetryMs = s.firstRetryMs;
  return -1;
}

class SignalHandler : public Handler {
 public:
  int fd = -1;
  void OnEvents(uint32_t) override {
    signalfd_siginfo info{};
    while (::read(fd, &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
      if (gState.stopping) continue;
      gState.stopping = true;
      Say(std::string(info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM") + ": closing links");
      CloseStream();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int settled = ParseSettings(argc, argv);
  if (settled >= 0) return settled;
  State& s = gState;
  s.parent = getppid();
  // Two descriptors per relayed connection: take what the hard limit allows.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  ReserveSpareFd();

  gEpoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (gEpoll < 0) {
    std::perror("pv-xconnect: epoll_create1");
    return 1;
  }
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  SignalHandler signals;
  signals.fd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signals.fd < 0) {
    std::perror("pv-xconnect: signalfd");
    return 1;
  }
  Watch(signals.fd, &signals, EPOLLIN);

  Say("following " + s.socket + " (GET /events?types=xconnect)");
  OpenStream();

  epoll_event events[64];
  while (!s.stopping) {
    // Sleep until the next deadline, or for ever while nothing is pending (no idle wakeups).
    int64_t next = -1;
    for (const int64_t at : {s.streamRetryAt, s.graphRetryAt, s.streamHeadDeadline, s.refusalDeadline, s.fetch != nullptr ? s.fetch->deadline() : -1})
      if (at >= 0 && (next < 0 || at < next)) next = at;
    const int timeout = next < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, next - NowMs()));
    const int n = ::epoll_wait(gEpoll, events, 64, timeout);
    if (n < 0 && errno != EINTR) {
      std::perror("pv-xconnect: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      auto* handler = static_cast<Handler*>(events[i].data.ptr);
      if (!handler->closed_) handler->OnEvents(events[i].events);
      if (s.stopping) break;
    }
    gGraveyard.clear();
    if (s.stopping) break;
    const int64_t now = NowMs();
    if (s.fetch != nullptr && s.fetch->deadline() >= 0 && now >= s.fetch->deadline()) s.fetch->Expire();
    if (s.streamHeadDeadline >= 0 && now >= s.streamHeadDeadline) StreamEnded("no answer from " + s.socket + " to GET /events");
    if (s.refusalDeadline >= 0 && now >= s.refusalDeadline) StreamEnded("GET /events: " + std::to_string(s.streamHead.status) + " " + s.streamBuffer);
    if (s.streamRetryAt >= 0 && now >= s.streamRetryAt && s.streamFd < 0) OpenStream();
    if (s.graphRetryAt >= 0 && now >= s.graphRetryAt) RequestPass();
  }
  // A pass in flight is dropped, not awaited: links are only changed between passes here.
  CloseStream();
  s.reconciler.CloseAll("pv-xconnect stopping");
  gGraveyard.clear();
  return 0;
}
