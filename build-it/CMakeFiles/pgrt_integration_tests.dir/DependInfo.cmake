
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/integration/first_boot_test.cc" "CMakeFiles/pgrt_integration_tests.dir/tests/integration/first_boot_test.cc.o" "gcc" "CMakeFiles/pgrt_integration_tests.dir/tests/integration/first_boot_test.cc.o.d"
  "/work/main/tests/integration/restart_test.cc" "CMakeFiles/pgrt_integration_tests.dir/tests/integration/restart_test.cc.o" "gcc" "CMakeFiles/pgrt_integration_tests.dir/tests/integration/restart_test.cc.o.d"
  "/work/main/tests/integration/supervision_test.cc" "CMakeFiles/pgrt_integration_tests.dir/tests/integration/supervision_test.cc.o" "gcc" "CMakeFiles/pgrt_integration_tests.dir/tests/integration/supervision_test.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-it/CMakeFiles/pgrt_harness.dir/DependInfo.cmake"
  "/work/main/build-it/CMakeFiles/pgrt_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
