{
  "targets": [
    {
      "target_name": "hearth_hub_server_native",
      "sources": ["native/sendfile.c"],
      "conditions": [["OS!='linux'", {"type": "none"}]],
      "cflags": ["-O2", "-Wall"]
    }
  ]
}
