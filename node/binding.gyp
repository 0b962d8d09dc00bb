# node-gyp's description of the addon (warden-node(3)). node/node.mk runs
# node-gyp with --nodedir pointing at the Node-API headers on this machine,
# so nothing is downloaded. The addon links nothing of libwarden: it loads
# libwarden.so.0 with dlopen(3) (lib/table.js says which).
{
  "targets": [
    {
      "target_name": "warden",
      "sources": [ "src/addon.c" ],
      "include_dirs": [ "../include" ],
      "cflags": [ "-std=gnu11", "-Wall", "-Wextra", "-Werror",
                  "-fvisibility=hidden" ],
      "cflags!": [ "-fno-exceptions" ],
      "libraries": [ "-ldl" ]
    }
  ]
}
