# bench.catch_up_smoke: runs bench/catch_up tiny (100 keys, 200 versions
# missed, so the default history of 100 no longer holds the replica's
# version) and checks that every case caught up, that the primary answered
# with a full snapshot where the history had dropped the replica's version
# and with a patch where it held it, and that the target lines are there.
#   cmake -DBENCH=path/to/catch_up -P catch_up_smoke.cmake
execute_process(
  COMMAND "${BENCH}" --keys 100 --versions 200
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 90)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "catch_up exited with '${rc}'\n${err}")
endif()
set(number "[0-9]+\\.[0-9]+")
set(expect_rejoin-missed-0 "0 +100 +${number} +${number} +[0-9]+ +patch\n")
set(expect_fresh-join "200 +100 +${number} +${number} +[0-9]+ +full\n")
set(expect_rejoin-history-default "200 +100 +${number} +${number} +[0-9]+ +full\n")
set(expect_rejoin-history-large "200 +202 +${number} +${number} +[0-9]+ +patch\n")
foreach(case IN ITEMS rejoin-missed-0 fresh-join rejoin-history-default
                      rejoin-history-large)
  if(NOT out MATCHES "\n${case} +${expect_${case}}")
    message(FATAL_ERROR "no row for ${case} as expected\n${err}")
  endif()
endforeach()
foreach(case IN ITEMS rejoin-history-default rejoin-history-large)
  if(NOT out MATCHES "\n${case}: replica that missed 200 versions has the newest in ${number} ms \\(target <= 100 ms: (met|missed by ${number}x)\\)")
    message(FATAL_ERROR "no target line for ${case}")
  endif()
endforeach()
