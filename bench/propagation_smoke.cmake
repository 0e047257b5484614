# bench.propagation_smoke: runs bench/propagation tiny with all seven systems
# and checks that it exits 0 and prints, for each system and each N, a row in
# which every flip reached every worker (lost = 0). A "skipped" row is
# accepted only when that system really cannot run here: redis-server or etcd
# not installed, or the bench built without hiredis.
#   cmake -DBENCH=path/to/propagation -DHAVE_HIREDIS=ON|OFF -P propagation_smoke.cmake
set(flips 20)
execute_process(
  COMMAND "${BENCH}" --n 1,2 --flips ${flips} --warmup 5
          --systems cfgactors,cfgactors-plain,caf,redis,etcd,etcd-txn,cfgactors-etcd
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 150)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "propagation exited with '${rc}'\n${err}")
endif()

find_program(redis_program redis-server)
find_program(etcd_program etcd)
set(redis_absent OFF)
if(NOT redis_program OR NOT HAVE_HIREDIS)
  set(redis_absent ON)
endif()
set(etcd_absent OFF)
if(NOT etcd_program)
  set(etcd_absent ON)
endif()
set(etcd-txn_absent ${etcd_absent})
set(cfgactors-etcd_absent ${etcd_absent})
set(cfgactors-plain_absent OFF)

foreach(system IN ITEMS cfgactors cfgactors-plain caf redis etcd etcd-txn
                        cfgactors-etcd)
  foreach(n IN ITEMS 1 2)
    if(out MATCHES "\n${system} +${n} +${flips} +0 +[0-9]+\\.[0-9] ")
      continue()
    endif()
    if(out MATCHES "\n${system} +${n} +skipped: " AND ${system}_absent)
      message(STATUS "${system} N=${n}: skipped, not installed here")
      continue()
    endif()
    message(FATAL_ERROR
      "no row for ${system} N=${n} with ${flips} flips and none lost\n${err}")
  endforeach()
endforeach()
foreach(n IN ITEMS 1 2)
  if(NOT out MATCHES "\nN=${n} +")
    message(FATAL_ERROR "no target line for N=${n}")
  endif()
  if(NOT out MATCHES "\nN=${n} +cfgactors-plain p50 = [0-9.]+x raw CAF; cfgactors \\(sealed link\\) = [0-9.]+x cfgactors-plain\n")
    message(FATAL_ERROR "no link share line for N=${n}")
  endif()
endforeach()
