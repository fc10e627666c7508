# Empty compiler generated dependencies file for pgrt_unit_tests.
# This may be replaced when dependencies are built.
