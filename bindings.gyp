# node-gyp description of the two addons built by native/CMakeLists.txt; keep the
# source lists in sync. node-gyp only reads ./binding.gyp, so either copy or
# include this file (scripts/build-native.sh --gyp does the latter).
{
  'targets': [
    {
      # The core addon, loaded before the first accept (native/src/addon_core.cpp): libc only,
      # libstdc++ linked statically as CMake does when the toolchain allows it.
      'target_name': 'pvctrl_native',
      'sources': [
        'native/src/addon_core.cpp',
        'native/src/napi_util.cpp',
        'native/src/peer_creds.cpp',
        'native/src/pidfd_watch.cpp',
        'native/src/sd_notify.cpp',
        'native/src/image_page_out.cpp',
        'native/src/stream_writer.cpp',
      ],
      # Relative to this file, wherever the build is staged; the shared compile settings.
      'includes': [ 'native/addon.gypi' ],
      'ldflags': [ '-static-libstdc++', '-static-libgcc', '-Wl,--exclude-libs,ALL', '-Wl,-z,text' ],
    },
    {
      # The lazy addon, loaded on first use (native/src/addon_lazy.cpp): libcrypto, liblxc, libkmod.
      'target_name': 'pvctrl_native_lazy',
      'sources': [
        'native/src/addon_lazy.cpp',
        'native/src/napi_util.cpp',
        'native/src/fd_ingest.cpp',
        'native/src/sha256_ingest.cpp',
        'native/src/lxc_container.cpp',
        'native/src/kmod_drivers.cpp',
      ],
      'includes': [ 'native/addon.gypi' ],
      'include_dirs': [
        # liblxc headers via pkg-config (empty when they sit in /usr/include).
        "<!@(pkg-config --cflags-only-I lxc | sed 's/-I//g')",
        # libkmod headers, likewise.
        "<!@(pkg-config --cflags-only-I libkmod | sed 's/-I//g')",
      ],
      'libraries': [ '-lcrypto' ],
      # A separate key so liblxc adds to the list above instead of replacing it.
      'link_settings': { 'libraries': [ '<!@(pkg-config --libs lxc)', '<!@(pkg-config --libs libkmod)' ] },
    },
    {
      # The process each LXC start is spawned through (native/src/lxc_start_helper.cpp);
      # it lands next to the .node files in build/Release, where src/native/lxc.ts looks for it.
      'target_name': 'pvctrl-lxc-start',
      'type': 'executable',
      'sources': [ 'native/src/lxc_start_helper.cpp' ],
      'include_dirs': [ "<!@(pkg-config --cflags-only-I lxc | sed 's/-I//g')" ],
      'cflags_cc!': [ '-std=gnu++17' ],
      'cflags_cc': [ '-std=c++17', '-O2' ],
      'link_settings': { 'libraries': [ '<!@(pkg-config --libs lxc)' ] },
    },
    {
      # pv-xconnect as a small native process (native/src/xconnect_relay.cpp); next to the .node.
      'target_name': 'pvctrl-xconnect',
      'type': 'executable',
      'sources': [ 'native/src/xconnect_relay.cpp' ],
      'cflags_cc!': [ '-std=gnu++17', '-fno-exceptions' ],
      'cflags_cc': [ '-std=c++17', '-fexceptions', '-O2' ],
    },
    {
      # pv-ctrl's executable in dist/<target>/ (native/src/multicall_launcher.cpp): libc only.
      'target_name': 'pvctrl-launcher',
      'type': 'executable',
      'sources': [ 'native/src/multicall_launcher.cpp' ],
      'cflags_cc!': [ '-std=gnu++17' ],
      'cflags_cc': [ '-std=c++17', '-O2', '-fno-exceptions', '-fno-rtti' ],
      'ldflags': [ '-Wl,--as-needed' ],
    },
  ],
}
