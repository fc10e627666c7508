# Empty compiler generated dependencies file for pgrt.
# This may be replaced when dependencies are built.
