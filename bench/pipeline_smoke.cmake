# bench.pipeline_smoke: runs bench/pipeline tiny (100 and 10,000 keys, one
# round of 50 timed commits: Debug builds check every schema proof with a
# full pass, which costs milliseconds at 10,000 keys) and checks that each
# size has its row for 1 and 1,000 subscribers in the header charts.py
# reads, a ratio row, a verdict per subscriber count and the target line.
#   cmake -DBENCH=path/to/pipeline -P pipeline_smoke.cmake
# Refusals first: a count that differs from a good one only in content
# ("5O", a letter O, beside "50") and one std::atoi would have read as 1;
# sizes with a trailing comma or a letter O, taken before, and a list that
# does not start at 100 keys. (--help: bench.command_lines.)
foreach(bad IN ITEMS "CFG_BENCH_COMMITS=5O" "CFG_BENCH_ROUNDS=1e3"
                     "CFG_BENCH_WINDOW=0" "CFG_BENCH_SIZES=100,10000,"
                     "CFG_BENCH_SIZES=100,1OOOO" "CFG_BENCH_SIZES=10000,100")
  string(REPLACE "=" ";" pair "${bad}")
  list(GET pair 0 name)
  list(GET pair 1 value)
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -E env "${bad}" "${BENCH}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "${name}: '${value}'"
     OR NOT out STREQUAL "")
    message(FATAL_ERROR "${bad}: expected exit 2 and a message naming it "
            "before any output, got '${rc}'\n${out}\n${err}")
  endif()
endforeach()

set(ENV{CFG_BENCH_SIZES} "100,10000")
set(ENV{CFG_BENCH_ROUNDS} "1")
set(ENV{CFG_BENCH_COMMITS} "50")
execute_process(
  COMMAND "${BENCH}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 100)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pipeline exited with '${rc}'\n${err}")
endif()
if(NOT out MATCHES "\nkeys +subscribers +commits +actors/s +\\(range\\) +baseline/s +ratio +tree copies +peak MiB\n")
  message(FATAL_ERROR "no table header as bench/charts.py reads it")
endif()
set(number "[0-9]+\\.[0-9]+")
foreach(row IN ITEMS "100 +1 +50" "100 +1000 +10" "10000 +1 +50"
                     "10000 +1000 +10")
  if(NOT out MATCHES "\n${row} +${number} +\\([0-9]+-[0-9]+\\) +${number} +${number} +[0-9]+ +[1-9][0-9]*\n")
    message(FATAL_ERROR "no measured row '${row}'")
  endif()
endforeach()
if(NOT out MATCHES "\n10000 +${number}x \\(${number}-${number}\\) +${number}x \\(${number}-${number}\\) +${number}x\n")
  message(FATAL_ERROR "no ratio row for 10000 keys")
endif()
foreach(subs IN ITEMS "   1 subscriber: " "1000 subscribers:")
  if(NOT out MATCHES "keys=10000  one-key commit, ${subs} ${number}x the 100-key time \\(target within 1\\.5x of 100 keys: (met|missed by ${number}x)\\)\n")
    message(FATAL_ERROR "no verdict for '${subs}'")
  endif()
endforeach()
if(NOT out MATCHES "\ntarget: >= 20000 commits/s at 100 keys with 1 subscriber: [0-9]+/s\n")
  message(FATAL_ERROR "no target line")
endif()
