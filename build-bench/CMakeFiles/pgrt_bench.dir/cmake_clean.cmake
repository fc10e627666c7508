file(REMOVE_RECURSE
  "CMakeFiles/pgrt_bench.dir/bench/placeholder_main.cc.o"
  "CMakeFiles/pgrt_bench.dir/bench/placeholder_main.cc.o.d"
  "pgrt_bench"
  "pgrt_bench.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pgrt_bench.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
