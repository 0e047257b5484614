# Included by tests/CMakeLists.txt: registers `fuzz.smoke`, which builds the
# fuzz targets with clang++-14 into <build>/fuzz and runs each for a short
# time on its seed corpus (smoke.cmake). The g++ build itself is untouched.
add_test(NAME fuzz.smoke
         COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                 -DBINARY_DIR=${CMAKE_BINARY_DIR}/fuzz
                 -DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER} -DSECONDS=20
                 -P ${CMAKE_CURRENT_LIST_DIR}/smoke.cmake)
# Measured on 2 cores: 312 s cold (no ccache), 110 s with a warm ccache; the
# timeout leaves room for a machine busy with other tests (docs/FUZZING.md).
set_tests_properties(fuzz.smoke PROPERTIES TIMEOUT 1200 LABELS fuzz)
