# Shared by the consumer scripts: run a step or fail with its output, install
# the library alone into a fresh prefix, and configure and build a consumer
# project the way the library was built (compiler, launcher, type, sanitizers).
foreach(var LIBRARY LIBRARY_BUILD_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "${consumer_label}: ${var} is not set")
  endif()
endforeach()
if(NOT EXISTS "${LIBRARY}")
  message(FATAL_ERROR "${consumer_label}: ${LIBRARY} is missing: "
                      "build the target cfgactors first")
endif()

set(consumer_config_args "")
if(CONFIG)
  set(consumer_config_args --config "${CONFIG}")
endif()

function(consumer_run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${consumer_label}: ${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "${consumer_label}: ${what} ok")
endfunction()

# Installs the library's folder only, so the apps need not be built; starts
# from nothing so a file the install forgot cannot be masked by an old one.
function(consumer_install prefix)
  file(REMOVE_RECURSE "${prefix}")
  consumer_run("install" "${CMAKE_COMMAND}" --install "${LIBRARY_BUILD_DIR}"
               --prefix "${prefix}" ${consumer_config_args})
endfunction()

# Configures SOURCE_DIR into BINARY_DIR (ARGN: how to find the package),
# builds it and sets OUT_VAR to the path of its executable EXE_NAME.
function(consumer_build source_dir binary_dir exe_name out_var)
  set(args -S "${source_dir}" -B "${binary_dir}" -G "${GENERATOR}"
           "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" ${ARGN})
  if(CONFIG)
    list(APPEND args "-DCMAKE_BUILD_TYPE=${CONFIG}")
  endif()
  if(CXX_LAUNCHER)
    list(APPEND args "-DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER}")
  endif()
  if(SANITIZE)
    # The library, static or shared, carries ASan/UBSan references: link the
    # runtimes (ASan must come first in the program's initial libraries).
    list(APPEND args
      "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer"
      "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
  endif()
  consumer_run("configure" "${CMAKE_COMMAND}" ${args})
  consumer_run("build" "${CMAKE_COMMAND}" --build "${binary_dir}"
               ${consumer_config_args})
  set(exe "${binary_dir}/${exe_name}")
  if(NOT EXISTS "${exe}" AND CONFIG)
    set(exe "${binary_dir}/${CONFIG}/${exe_name}") # multi-config generators
  endif()
  set(${out_var} "${exe}" PARENT_SCOPE)
endfunction()
