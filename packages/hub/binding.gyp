{
  "targets": [
    {
      "target_name": "hearth_hub_native",
      "sources": ["native/hash-thread.c"],
      "conditions": [["OS!='linux'", {"type": "none"}]],
      "cflags": ["-O2", "-Wall", "-pthread"]
    }
  ]
}
