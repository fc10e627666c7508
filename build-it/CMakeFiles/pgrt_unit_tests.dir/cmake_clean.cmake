file(REMOVE_RECURSE
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/child_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/child_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/command_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/command_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_descriptors_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_descriptors_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_load_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_load_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_render_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_render_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_rules_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_rules_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_secrets_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/config_secrets_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/docs_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/docs_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/event_loop_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/event_loop_test.cc.o.d"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/supervisor_test.cc.o"
  "CMakeFiles/pgrt_unit_tests.dir/tests/unit/supervisor_test.cc.o.d"
  "pgrt_unit_tests"
  "pgrt_unit_tests.pdb"
  "pgrt_unit_tests[1]_tests.cmake"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pgrt_unit_tests.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
