# Runs one CAF test suite and fails unless it passed *and* ran at least one test.
# CAF logs each check, passed or failed, only at its most verbose level: that
# goes to a log file, and a failed suite prints its failed checks from it
# (the console says which test failed, not which check), or from a second
# run when an abort cut the log short.
set(log "${CMAKE_CURRENT_BINARY_DIR}/suite-${SUITE}.log")
file(REMOVE "${log}")
execute_process(COMMAND "${TEST_BINARY}" -n -r 300 -s "^${SUITE}$"
                        -l "${log}" -V 5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
message("${all}")
if(NOT rc EQUAL 0)
  # A failed check (`!! `), a test's name (`- `), a failed requirement.
  set(check_line "^(!! |- |.*REQUIRED)")
  set(lines "")
  set(from "${log}")
  if(EXISTS "${log}")
    file(STRINGS "${log}" lines REGEX "${check_line}")
  endif()
  # A suite that aborts (a failed CAF_REQUIRE) leaves its log file cut
  # short: run it again with its checks on the console instead.
  if(NOT lines MATCHES "!! ")
    execute_process(COMMAND "${TEST_BINARY}" -n -r 300 -s "^${SUITE}$" -v 5
                    OUTPUT_VARIABLE again ERROR_VARIABLE again_err)
    string(REPLACE ";" "," again "${again}${again_err}")
    string(REPLACE "\n" ";" again "${again}")
    set(lines "")
    set(from "a second run with its checks on the console")
    foreach(line IN LISTS again)
      if(line MATCHES "${check_line}")
        list(APPEND lines "${line}")
      endif()
    endforeach()
  endif()
  # Each failed check under the name of its test, once.
  set(failed "")
  set(test_name "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^- ")
      set(test_name "${line}")
    else()
      if(test_name)
        string(APPEND failed "${test_name}\n")
        set(test_name "")
      endif()
      string(APPEND failed "${line}\n")
    endif()
  endforeach()
  message("failed checks (from ${from}):\n${failed}")
  message(FATAL_ERROR "suite ${SUITE} failed (exit ${rc})")
endif()
string(REGEX MATCH "tests: +([0-9]+)" _ "${all}")
if(NOT CMAKE_MATCH_1 OR CMAKE_MATCH_1 EQUAL 0)
  message(FATAL_ERROR "suite ${SUITE} ran no tests")
endif()
message("suite ${SUITE}: ${CMAKE_MATCH_1} tests passed")
