# Empty dependencies file for pgrt_core.
# This may be replaced when dependencies are built.
