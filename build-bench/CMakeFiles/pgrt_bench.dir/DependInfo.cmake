
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/bench/bare_cluster.cc" "CMakeFiles/pgrt_bench.dir/bench/bare_cluster.cc.o" "gcc" "CMakeFiles/pgrt_bench.dir/bench/bare_cluster.cc.o.d"
  "/work/main/bench/bench_main.cc" "CMakeFiles/pgrt_bench.dir/bench/bench_main.cc.o" "gcc" "CMakeFiles/pgrt_bench.dir/bench/bench_main.cc.o.d"
  "/work/main/bench/figures.cc" "CMakeFiles/pgrt_bench.dir/bench/figures.cc.o" "gcc" "CMakeFiles/pgrt_bench.dir/bench/figures.cc.o.d"
  "/work/main/bench/probes.cc" "CMakeFiles/pgrt_bench.dir/bench/probes.cc.o" "gcc" "CMakeFiles/pgrt_bench.dir/bench/probes.cc.o.d"
  "/work/main/bench/report.cc" "CMakeFiles/pgrt_bench.dir/bench/report.cc.o" "gcc" "CMakeFiles/pgrt_bench.dir/bench/report.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-bench/CMakeFiles/pgrt_harness.dir/DependInfo.cmake"
  "/work/main/build-bench/CMakeFiles/pgrt_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
