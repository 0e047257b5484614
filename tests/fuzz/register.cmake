# Included by tests/CMakeLists.txt: registers `fuzz.smoke`, which builds the
# fuzz targets with clang++-14 into <build>/fuzz and runs each for a short
# time on its seed corpus (smoke.cmake). The g++ build itself is untouched.
add_test(NAME fuzz.smoke
         COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR}
                 -DBINARY_DIR=${CMAKE_BINARY_DIR}/fuzz
                 -DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER} -DSECONDS=20
                 -P ${CMAKE_CURRENT_LIST_DIR}/smoke.cmake)
# Measured on 2 cores: the build alone 223 s cold (no ccache; most of it
# the library and cfgd's API for http_router), then eight 20 s runs, two
# at a time; the timeout leaves room for a slower, busier machine
# (docs/FUZZING.md).
# COST: started first, so that its clang build overlaps the other tests
# instead of being the last thing a cold run waits for.
set_tests_properties(fuzz.smoke PROPERTIES TIMEOUT 2400 LABELS fuzz
                                           COST 100000)
