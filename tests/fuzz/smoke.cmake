# CTest's fuzz.smoke (registered by register.cmake): configures tests/fuzz
# with clang++-14 into BINARY_DIR, builds it, and runs every target on a copy
# of its seed corpus for SECONDS. Fails on a crash, a leak, a sanitizer report
# or a broken invariant, and on a target that did not fuzz at all. A missing
# clang++-14 or libFuzzer fails too (never a skip): CI must run this.
#
#   cmake -DSOURCE_DIR=<repo> -DBINARY_DIR=<dir> [-DLAUNCHER=ccache]
#         [-DSECONDS=20] [-DTARGETS=a;b] -P smoke.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var SOURCE_DIR BINARY_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "smoke.cmake needs -D${var}=...")
  endif()
endforeach()
if(NOT DEFINED SECONDS)
  set(SECONDS 20)
endif()
set(fuzz_dir "${SOURCE_DIR}/tests/fuzz")
if(NOT DEFINED TARGETS)
  set(TARGETS parse_document path merge_patch env_mapping flags http_router
      link_frames etcd_record)
endif()

find_program(clangxx clang++-14)
if(NOT clangxx)
  message(FATAL_ERROR "fuzz.smoke: clang++-14 not found; install clang-14 "
          "and libfuzzer-14-dev (scripts/dev deps installs both)")
endif()
find_program(ninja ninja)
if(NOT ninja)
  message(FATAL_ERROR "fuzz.smoke: ninja not found (Debian: ninja-build)")
endif()

set(configure_args -S "${fuzz_dir}" -B "${BINARY_DIR}" -G Ninja
    "-DCMAKE_CXX_COMPILER=${clangxx}" "-DCFGACTORS_SOURCE_DIR=${SOURCE_DIR}"
    -DCFGACTORS_FUZZ_QUICK=ON)
if(LAUNCHER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" ${configure_args}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz.smoke: configuring ${fuzz_dir} failed:\n${out}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" -j2
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz.smoke: building the fuzz targets failed:\n${out}")
endif()

# UBSan stops at its first report (the targets are built without recovery);
# ASan's leak check is on by default.
set(ENV{UBSAN_OPTIONS} "print_stacktrace=1:halt_on_error=1")
set(ENV{ASAN_OPTIONS} "detect_leaks=1")

# Every target's copy of its seeds, prepared before any runs.
foreach(target IN LISTS TARGETS)
  set(seeds "${fuzz_dir}/corpus/${target}")
  set(work "${BINARY_DIR}/smoke/${target}")
  file(REMOVE_RECURSE "${work}")
  file(MAKE_DIRECTORY "${work}/artifacts")
  # A copy: libFuzzer adds what it finds to the corpus directory it is given.
  file(COPY "${seeds}/" DESTINATION "${work}/corpus")
  file(GLOB seed_files "${seeds}/*")
  list(LENGTH seed_files seed_count_${target})
  if(seed_count_${target} EQUAL 0)
    message(FATAL_ERROR "fuzz.smoke: no seeds in ${seeds}")
  endif()
endforeach()

# Two targets at a time (a libFuzzer run is one thread; the machine the
# bound is set for has two cores): the runs take half the time they took
# one after another. execute_process runs its commands at once, as a pipe;
# each writes its own log instead, so nothing goes through the pipe.
list(LENGTH TARGETS count)
math(EXPR last "${count} - 1")
set(failed "")
foreach(first RANGE 0 ${last} 2)
  list(SUBLIST TARGETS ${first} 2 batch)
  set(commands "")
  foreach(target IN LISTS batch)
    set(work "${BINARY_DIR}/smoke/${target}")
    list(APPEND commands COMMAND sh -c
         "cd \"$1\" && shift && exec \"$@\" > fuzz.log 2>&1" sh "${work}"
         "${BINARY_DIR}/fuzz_${target}" -max_total_time=${SECONDS}
         -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
         "-artifact_prefix=${work}/artifacts/" "${work}/corpus")
  endforeach()
  execute_process(${commands} RESULTS_VARIABLE rcs)
  foreach(target IN LISTS batch)
    list(POP_FRONT rcs rc)
    set(work "${BINARY_DIR}/smoke/${target}")
    file(READ "${work}/fuzz.log" log)
    set(seed_count ${seed_count_${target}})
    set(runs 0)
    if(log MATCHES "stat::number_of_executed_units: ([0-9]+)")
      set(runs ${CMAKE_MATCH_1})
    elseif(log MATCHES "Done ([0-9]+) runs")
      set(runs ${CMAKE_MATCH_1})
    endif()
    set(problem "")
    if(NOT rc EQUAL 0)
      set(problem "exit code ${rc}")
    elseif(log MATCHES "(ERROR: [A-Za-z]+Sanitizer|runtime error:|ERROR: libFuzzer|invariant violated)")
      set(problem "report '${CMAKE_MATCH_1}'")
    elseif(runs LESS_EQUAL seed_count)
      # The seeds alone count as runs: a target that mutated nothing did not
      # fuzz (a broken corpus path, a harness that returns before the code).
      set(problem "only ${runs} executions for ${seed_count} seeds")
    endif()
    if(problem)
      string(LENGTH "${log}" length)
      if(length GREATER 12000)
        math(EXPR from "${length} - 12000")
        string(SUBSTRING "${log}" ${from} -1 log)
      endif()
      file(GLOB artifacts "${work}/artifacts/*")
      message(STATUS "fuzz.smoke: ${target} FAILED (${problem}); log "
              "${work}/fuzz.log, input(s): ${artifacts}\n${log}")
      list(APPEND failed ${target})
    else()
      message(STATUS "fuzz.smoke: ${target}: ${runs} executions in "
              "${SECONDS} s, no findings")
    endif()
  endforeach()
endforeach()
if(failed)
  message(FATAL_ERROR "fuzz.smoke: failed: ${failed} (docs/FUZZING.md: "
          "minimizing and reproducing a crash)")
endif()
