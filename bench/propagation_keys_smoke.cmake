# bench.propagation_keys_smoke: bench/propagation with two config sizes
# (--keys 100,1000): cfgactors runs once per size (rows cfgactors@100 and
# cfgactors@1000, every flip delivered), raw CAF once, and the growth line
# compares the second size's p50 with the first's.
#   cmake -DBENCH=path/to/propagation -P propagation_keys_smoke.cmake
set(flips 10)
execute_process(
  COMMAND "${BENCH}" --n 1 --flips ${flips} --warmup 2 --keys 100,1000
          --systems cfgactors,caf
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "propagation exited with '${rc}'\n${err}")
endif()
foreach(label IN ITEMS cfgactors@100 cfgactors@1000 caf)
  if(NOT out MATCHES "\n${label} +1 +${flips} +0 +[0-9]+\\.[0-9] ")
    message(FATAL_ERROR "no row for ${label} with ${flips} flips, none lost")
  endif()
endforeach()
if(out MATCHES "\ncfgactors@[0-9]+ +1 +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +- ")
  message(FATAL_ERROR "a cfgactors row without its ratio to raw CAF")
endif()
if(NOT out MATCHES "\nN=1 +keys=1000 +cfgactors one-key change p50 = [0-9.]+x keys=100 \\(target within 1\\.5x of 100 keys: (met|missed by [0-9.]+x)\\)")
  message(FATAL_ERROR "no growth line for keys=1000 at N=1")
endif()
if(NOT out MATCHES "\nN=1 +cfgactors p50 = [0-9.]+x raw CAF")
  message(FATAL_ERROR "no target line against raw CAF at N=1")
endif()
