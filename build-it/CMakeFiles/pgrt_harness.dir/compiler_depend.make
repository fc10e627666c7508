# Empty compiler generated dependencies file for pgrt_harness.
# This may be replaced when dependencies are built.
