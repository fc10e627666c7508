file(REMOVE_RECURSE
  "CMakeFiles/pgrt_integration_tests.dir/tests/integration/first_boot_test.cc.o"
  "CMakeFiles/pgrt_integration_tests.dir/tests/integration/first_boot_test.cc.o.d"
  "CMakeFiles/pgrt_integration_tests.dir/tests/integration/restart_test.cc.o"
  "CMakeFiles/pgrt_integration_tests.dir/tests/integration/restart_test.cc.o.d"
  "CMakeFiles/pgrt_integration_tests.dir/tests/integration/supervision_test.cc.o"
  "CMakeFiles/pgrt_integration_tests.dir/tests/integration/supervision_test.cc.o.d"
  "pgrt_integration_tests"
  "pgrt_integration_tests.pdb"
  "pgrt_integration_tests[1]_tests.cmake"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pgrt_integration_tests.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
