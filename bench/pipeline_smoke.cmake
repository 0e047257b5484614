# bench.pipeline_smoke: runs bench/pipeline tiny (100 and 10,000 keys, one
# round of 50 timed commits: Debug builds check every schema proof with a
# full pass, which costs milliseconds at 10,000 keys) and checks that each
# size has its row for 1 and 1,000 subscribers in the header charts.py
# reads, a ratio row, a verdict per subscriber count and the target line.
#   cmake -DBENCH=path/to/pipeline -P pipeline_smoke.cmake
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
