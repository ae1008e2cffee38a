# Compile settings both addon targets of ../bindings.gyp share (as native/CMakeLists.txt's
# foreach over the two addons): included into each of those targets, not into the executables,
# which want -fno-rtti or other flags of their own.
{
  'include_dirs': [
    "<!(node -p \"require('node-addon-api').include_dir\")",
  ],
  'defines': [ 'NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', '_GNU_SOURCE' ],
  'cflags!': [ '-fno-exceptions' ],
  'cflags_cc!': [ '-fno-exceptions', '-fno-rtti', '-std=gnu++17' ],
  'cflags_cc': [ '-std=c++17', '-fexceptions', '-fvisibility=hidden', '-fvisibility-inlines-hidden', '-O2' ],
  'cflags': [ '-fvisibility=hidden' ],
}
