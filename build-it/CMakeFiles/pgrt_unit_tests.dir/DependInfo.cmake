
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/unit/child_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/child_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/child_test.cc.o.d"
  "/work/main/tests/unit/command_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/command_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/command_test.cc.o.d"
  "/work/main/tests/unit/config_descriptors_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_descriptors_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_descriptors_test.cc.o.d"
  "/work/main/tests/unit/config_load_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_load_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_load_test.cc.o.d"
  "/work/main/tests/unit/config_render_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_render_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_render_test.cc.o.d"
  "/work/main/tests/unit/config_rules_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_rules_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_rules_test.cc.o.d"
  "/work/main/tests/unit/config_secrets_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_secrets_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_secrets_test.cc.o.d"
  "/work/main/tests/unit/docs_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/docs_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/docs_test.cc.o.d"
  "/work/main/tests/unit/event_loop_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/event_loop_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/event_loop_test.cc.o.d"
  "/work/main/tests/unit/supervisor_test.cc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/supervisor_test.cc.o" "gcc" "CMakeFiles/pgrt_unit_tests.dir/tests/unit/supervisor_test.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-it/CMakeFiles/pgrt_core.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
