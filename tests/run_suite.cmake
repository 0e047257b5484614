# Runs one CAF test suite and fails unless it passed *and* ran at least one test.
execute_process(COMMAND "${TEST_BINARY}" -n -r 300 -s "^${SUITE}$"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
message("${all}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "suite ${SUITE} failed (exit ${rc})")
endif()
string(REGEX MATCH "tests: +([0-9]+)" _ "${all}")
if(NOT CMAKE_MATCH_1 OR CMAKE_MATCH_1 EQUAL 0)
  message(FATAL_ERROR "suite ${SUITE} ran no tests")
endif()
message("suite ${SUITE}: ${CMAKE_MATCH_1} tests passed")
