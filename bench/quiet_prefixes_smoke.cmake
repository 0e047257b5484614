# bench.quiet_prefixes_smoke: runs bench/quiet_prefixes small and checks that
# it exits 0 and prints its memory lines, with a tree size that is one (a
# config of 10,000 keys takes more than 100 KiB), and its commit rates.
#   cmake -DBENCH=path/to/quiet_prefixes -P quiet_prefixes_smoke.cmake
execute_process(
  COMMAND "${BENCH}" --keys 10000 --prefixes 8 --idle 10,100 --commits 200
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "quiet_prefixes exited with '${rc}'\n${err}")
endif()
if(NOT out MATCHES "keys=10000: resident MiB once quiet: without subscribers [0-9.]+ \\(again after: [0-9.]+\\), with 8 quiet prefixes [0-9.]+\n")
  message(FATAL_ERROR "no resident memory line\n${err}")
endif()
if(NOT out MATCHES "keys=10000: [0-9.]+ MiB per quiet prefix; one whole tree of the config: (0\\.[1-9]|[1-9])[0-9.]* MiB \\([0-9.]+ trees per quiet prefix\\)")
  message(FATAL_ERROR "no per-prefix line with a measured tree size\n${err}")
endif()
if(NOT out MATCHES "one-key commits/s, 100-key config, 200 commits: no idle subscribers [1-9][0-9]*\n")
  message(FATAL_ERROR "no baseline commit rate\n${err}")
endif()
foreach(n IN ITEMS 10 100)
  if(NOT out MATCHES "\nidle=${n} +[1-9][0-9]* commits/s, [0-9.]+x the time of none")
    message(FATAL_ERROR "no commit rate with ${n} idle subscribers\n${err}")
  endif()
endforeach()
