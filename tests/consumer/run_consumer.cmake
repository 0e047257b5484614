# Installs BUILD_DIR into a fresh PREFIX, then configures, builds and runs the
# consumer project against that prefix only (the source tree is never seen).
foreach(var BUILD_DIR PREFIX PROJECT_DIR PROJECT_BUILD_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: ${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "consumer: ${what} ok")
endfunction()

set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()

# Start from nothing so a file the install forgot cannot be masked by an old one.
file(REMOVE_RECURSE "${PREFIX}" "${PROJECT_BUILD_DIR}")

run("install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
    ${config_args})

set(configure_args
  -S "${PROJECT_DIR}" -B "${PROJECT_BUILD_DIR}" -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${PREFIX}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(CONFIG)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
if(CXX_LAUNCHER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER}")
endif()
if(SANITIZE)
  # The installed static library carries ASan/UBSan references: link the runtimes.
  list(APPEND configure_args
    "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer"
    "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()
run("configure" "${CMAKE_COMMAND}" ${configure_args})
run("build" "${CMAKE_COMMAND}" --build "${PROJECT_BUILD_DIR}" ${config_args})

set(exe "${PROJECT_BUILD_DIR}/consumer")
if(NOT EXISTS "${exe}" AND CONFIG)
  set(exe "${PROJECT_BUILD_DIR}/${CONFIG}/consumer")  # multi-config generators
endif()
execute_process(COMMAND "${exe}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer: the program failed (${rc})")
endif()
if(NOT out MATCHES "^canonical_hash [0-9a-f]+ ok\n$")
  message(FATAL_ERROR "consumer: unexpected output: ${out}")
endif()
message(STATUS "consumer: find_package(cfgactors) on ${PREFIX} works")
