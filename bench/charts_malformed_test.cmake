# bench.charts_malformed: bench/charts.py refuses the tables in bench/testdata/
# and says which file and line is wrong, and why; it writes no chart.
#   cmake -DPYTHON=python3 -DSOURCE_DIR=path/to/cfgactors -DOUT=scratch/dir
#         -P charts_malformed_test.cmake
set(testdata "${SOURCE_DIR}/bench/testdata")
# fixture, then the error it must print (a regex)
set(cases
  "propagation-malformed.txt"
  "propagation-malformed\\.txt:5: 8 columns, the header has 9 \\(system \\| N"
  "catch_up-malformed.txt"
  "catch_up-malformed\\.txt:5: column 'path': 'partial' is not patch or full"
  "subscribers-malformed.txt"
  "subscribers-malformed\\.txt:4: column 'p50 ms': '1\\.2x' is not a number"
  "nosuchbench.txt"
  "nosuchbench\\.txt: unknown table kind 'nosuchbench'")
while(cases)
  list(POP_FRONT cases fixture expected)
  file(REMOVE_RECURSE "${OUT}")
  execute_process(
    COMMAND "${PYTHON}" "${SOURCE_DIR}/bench/charts.py"
            "${testdata}/${fixture}" "${OUT}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
  message("${fixture}: exit ${rc}: ${err}")
  if(rc EQUAL 0)
    message(FATAL_ERROR "charts.py accepted ${fixture}\n${out}")
  endif()
  if(NOT err MATCHES "^charts\\.py: [^\n]*${expected}")
    message(FATAL_ERROR "${fixture}: the error does not match '${expected}'")
  endif()
  if(EXISTS "${OUT}")
    message(FATAL_ERROR "${fixture}: charts.py made ${OUT} all the same")
  endif()
endwhile()
