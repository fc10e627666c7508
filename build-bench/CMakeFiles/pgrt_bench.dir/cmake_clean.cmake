file(REMOVE_RECURSE
  "CMakeFiles/pgrt_bench.dir/bench/bare_cluster.cc.o"
  "CMakeFiles/pgrt_bench.dir/bench/bare_cluster.cc.o.d"
  "CMakeFiles/pgrt_bench.dir/bench/bench_main.cc.o"
  "CMakeFiles/pgrt_bench.dir/bench/bench_main.cc.o.d"
  "CMakeFiles/pgrt_bench.dir/bench/figures.cc.o"
  "CMakeFiles/pgrt_bench.dir/bench/figures.cc.o.d"
  "CMakeFiles/pgrt_bench.dir/bench/probes.cc.o"
  "CMakeFiles/pgrt_bench.dir/bench/probes.cc.o.d"
  "CMakeFiles/pgrt_bench.dir/bench/report.cc.o"
  "CMakeFiles/pgrt_bench.dir/bench/report.cc.o.d"
  "pgrt_bench"
  "pgrt_bench.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pgrt_bench.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
