# bench.history_memory_smoke: runs bench/history_memory.py tiny against the
# build's cfgd and checks that it exits 0 and prints a measured row (RSS at
# start above an empty cfgd's, a figure per version held, a burst's peak)
# for its one size.
#   cmake -DPYTHON=python3 -DSCRIPT=history_memory.py -DCFGD=path/to/cfgd
#         -P history_memory_smoke.cmake
execute_process(
  COMMAND "${PYTHON}" "${SCRIPT}" --cfgd "${CFGD}" --keys 1000 --writes 20
          --history 20 --burst 4 --burst-writes 5
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 100)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "history_memory.py exited with '${rc}'\n${err}")
endif()
if(NOT out MATCHES "\n +1000 +[1-9][0-9]*\\.[0-9] +-?[0-9]+\\.[0-9] +-?[0-9]+\\.[0-9] +[1-9][0-9]*\\.[0-9] +-?[0-9]+\\.[0-9] +-?[0-9]+\\.[0-9]+\n")
  message(FATAL_ERROR "no measured row for 1000 keys\n${err}")
endif()
if(NOT out MATCHES "RSS every 10 writes \\(MiB\\): [0-9]+ [0-9]+ [0-9]+\n")
  message(FATAL_ERROR "no RSS samples (start and every 10 writes)\n${err}")
endif()
if(NOT out MATCHES "burst of 4 writers x 5 writes: RSS [1-9][0-9]* MiB before, peak [1-9][0-9]* MiB \\(\\+-?[0-9]+ MiB = -?[0-9]+\\.[0-9] trees\\), [0-9]+ tree copies\n")
  message(FATAL_ERROR "no burst line (peak RSS, tree copies)\n${err}")
endif()
