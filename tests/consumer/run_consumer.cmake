# Installs the library into a fresh PREFIX, then configures, builds and runs the
# consumer project against that prefix only (the source tree is never seen).
set(consumer_label "consumer")
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
foreach(var PREFIX PROJECT_DIR PROJECT_BUILD_DIR LINKED_TARGETS)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${PROJECT_BUILD_DIR}")
consumer_install("${PREFIX}")
consumer_build("${PROJECT_DIR}" "${PROJECT_BUILD_DIR}" consumer exe
               "-DCMAKE_PREFIX_PATH=${PREFIX}"
               "-DCFGACTORS_LINKED_TARGETS=${LINKED_TARGETS}")

execute_process(COMMAND "${exe}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer: the program failed (${rc})")
endif()
if(NOT out MATCHES "^canonical_hash [0-9a-f]+ ok\n$")
  message(FATAL_ERROR "consumer: unexpected output: ${out}")
endif()
message(STATUS "consumer: find_package(cfgactors) on ${PREFIX} works")
