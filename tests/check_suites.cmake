# Fails if a suite registered with CTest is missing from the test binary.
execute_process(COMMAND "${TEST_BINARY}" -a
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REPLACE "," ";" suites "${SUITES}")
foreach(suite IN LISTS suites)
  string(FIND "${out}${err}" "${suite}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "suite '${suite}' is not in ${TEST_BINARY}")
  endif()
endforeach()
