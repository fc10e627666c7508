# Empty compiler generated dependencies file for pgrt_integration_tests.
# This may be replaced when dependencies are built.
