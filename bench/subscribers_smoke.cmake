# bench.subscribers_smoke: runs bench/subscribers tiny and checks that it
# exits 0, prints a measured row for cfgactors and raw CAF at each size (every
# subscriber got every write, or the child process fails; an RSS delta that
# is not one) and the target line of each size.
#   cmake -DBENCH=path/to/subscribers -P subscribers_smoke.cmake
execute_process(
  COMMAND "${BENCH}" --sizes 100,1000 --writes 2
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "subscribers exited with '${rc}'\n${err}")
endif()
foreach(n IN ITEMS 100 1000)
  foreach(system IN ITEMS cfgactors caf)
    # p50, max, commit (- for caf), then the bytes per subscriber: an
    # actor costs at least 100 bytes, so a smaller figure is a broken RSS
    # measurement.
    if(NOT out MATCHES "\n${system} +${n} +[0-9]+\\.[0-9]+ +[0-9]+\\.[0-9]+ +([0-9]+\\.[0-9]+|-) +[1-9][0-9][0-9]+ ")
      message(FATAL_ERROR "no measured row for ${system} at ${n} (with at "
                          "least 100 B per subscriber)\n${err}")
    endif()
  endforeach()
  if(NOT out MATCHES "\nN=${n} +write -> last subscriber p50 [0-9.]+ ms \\(target <= 50 ms: (met|missed by [0-9.]+x)\\); [0-9]+ B per subscriber \\(target <= 2 KiB each: (met|missed by [0-9.]+x)\\)")
    message(FATAL_ERROR "no target line for N=${n}")
  endif()
endforeach()
