# CMake toolchain file: cross-compile native/ for aarch64 (glibc) with Debian's
# g++-aarch64-linux-gnu against Debian's arm64 multiarch libraries
# (`dpkg --add-architecture arm64`; libssl-dev:arm64, liblxc1:arm64, libkmod-dev:arm64).
#
# Used by scripts/build-targets.ts:
#   PKG_CONFIG_LIBDIR=<arm64 .pc dirs> cmake -S native -B <build> \
#     -DCMAKE_TOOLCHAIN_FILE=scripts/build-targets.aarch64-linux-gnu.cmake -DCMAKE_JS_INC=...
#
# Debian's cross compiler is multiarch-aware: it already searches /usr/include/aarch64-linux-gnu
# and /usr/lib/aarch64-linux-gnu, so the "sysroot" is simply /. pkg-config finds the arm64 .pc
# files because the caller sets PKG_CONFIG_LIBDIR (never PKG_CONFIG_PATH, which would still
# fall back to the amd64 ones).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# find_library()/find_package() look in <prefix>/lib/aarch64-linux-gnu first and never in the
# build machine's x86_64-linux-gnu directory.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
