file(REMOVE_RECURSE
  "libpgrt_harness.a"
)
