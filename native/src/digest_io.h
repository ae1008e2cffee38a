// Small pieces both ingest paths (sha256_ingest.cpp, fd_ingest.cpp) need: the
// SHA-256 algorithm handle, hex output and a write that survives EINTR.
#pragma once

#include <openssl/evp.h>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unistd.h>

namespace pvctrl {

inline std::string Hex(const unsigned char* bytes, size_t length) {
  static const char kHexDigits[] = "0123456789abcdef";
  std::string out(length * 2, '0');
  for (size_t i = 0; i < length; i++) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return out;
}

// OpenSSL 3 re-resolves EVP_sha256() through its provider tables on every
// init; fetching once keeps small objects cheap. OpenSSL 1.1 (older Yocto
// releases) only has the legacy accessor.
inline const EVP_MD* Sha256() {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  static EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (fetched != nullptr) return fetched;
#endif
  return EVP_sha256();
}

// Full write that survives EINTR and short writes; returns 0 or an errno.
inline int WriteAll(int fd, const uint8_t* data, size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data += n;
    length -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace pvctrl
