# CMake generated Testfile for 
# Source directory: /work/main
# Build directory: /work/main/build-it
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
include("/work/main/build-it/pgrt_unit_tests[1]_include.cmake")
include("/work/main/build-it/pgrt_integration_tests[1]_include.cmake")
