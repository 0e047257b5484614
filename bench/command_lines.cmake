# bench.command_lines: every bench answers --help and -h with its usage on
# stdout (exit 0, nothing on stderr), and refuses an option it does not have
# before it runs anything: exit 2, the option named on stderr, nothing on
# stdout (bench/usage.hpp).
#   cmake "-DBENCHES=pipeline=/path/to/pipeline;flags=/path/to/flags" \
#         -P command_lines.cmake
if(NOT BENCHES)
  message(FATAL_ERROR "command_lines.cmake needs -DBENCHES=name=path;...")
endif()
set(checked 0)
foreach(entry IN LISTS BENCHES)
  string(REPLACE "=" ";" pair "${entry}")
  list(GET pair 0 name)
  list(GET pair 1 path)
  foreach(ask IN ITEMS --help -h)
    execute_process(COMMAND "${path}" ${ask} RESULT_VARIABLE rc
                    OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
    if(NOT rc EQUAL 0 OR NOT out MATCHES "^usage: (bench/)?${name} "
       OR NOT err STREQUAL "")
      message(FATAL_ERROR "${name} ${ask}: expected exit 0 and the usage on "
              "stdout alone, got '${rc}'\nstdout: ${out}\nstderr: ${err}")
    endif()
  endforeach()
  # pipeline takes one positional count; the others --name value pairs.
  if(name STREQUAL "pipeline")
    set(bad --no-such-option)
  else()
    set(bad --no-such-option 7)
  endif()
  execute_process(COMMAND "${path}" ${bad} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 30)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "^(bench/)?${name}: [^\n]*--no-such-option"
     OR NOT out STREQUAL "")
    message(FATAL_ERROR "${name} ${bad}: expected exit 2, the option named "
            "on stderr and nothing run, got '${rc}'\nstdout: ${out}\n"
            "stderr: ${err}")
  endif()
  math(EXPR checked "${checked} + 1")
endforeach()
message(STATUS "bench.command_lines: ${checked} benches checked")
