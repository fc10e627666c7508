file(REMOVE_RECURSE
  "CMakeFiles/pgrt_harness.dir/tests/harness/harness.cc.o"
  "CMakeFiles/pgrt_harness.dir/tests/harness/harness.cc.o.d"
  "libpgrt_harness.a"
  "libpgrt_harness.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pgrt_harness.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
