{
  "targets": [
    {
      "target_name": "hearth_hub_server_native",
      "sources": ["native/sendfile.c"],
      "conditions": [["OS!='linux'", {"type": "none"}]],
      "cflags": ["-O2", "-Wall"]
    },
    {
      "target_name": "hearth_hub_server_hash",
      "sources": ["native/hash-thread.c"],
      "conditions": [["OS!='linux'", {"type": "none"}]],
      "cflags": ["-O2", "-Wall", "-pthread"]
    }
  ]
}
