file(REMOVE_RECURSE
  "libpgrt_core.a"
)
