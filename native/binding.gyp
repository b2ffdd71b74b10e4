{
  "targets": [
    {
      "target_name": "enet_actor",
      "sources": [
        "src/addon.cc", "src/reactor.cc", "src/reactor_hosts.cc", "src/reactor_inbound.cc",
        "src/reactor_outbound.cc", "src/reactor_routing.cc", "src/reactor_guard.cc", "src/reactor_stats.cc", "src/reactor_sessions.cc",
        "src/registry.cc", "src/compress.cc", "src/guard.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-Wall", "-Wextra", "-Werror", "<!@(pkg-config --cflags libenet zlib libzstd)"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "libraries": ["<!@(pkg-config --libs libenet zlib libzstd)"]
    }
  ]
}
