# Empty compiler generated dependencies file for pgrt_bench.
# This may be replaced when dependencies are built.
