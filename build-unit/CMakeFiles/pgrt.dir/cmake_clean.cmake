file(REMOVE_RECURSE
  "CMakeFiles/pgrt.dir/src/main.cpp.o"
  "CMakeFiles/pgrt.dir/src/main.cpp.o.d"
  "pgrt"
  "pgrt.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/pgrt.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
