# Builds and runs the program README.md shows, taken from the README text
# itself (the fenced blocks right after <!-- readme:NAME --> markers), so the
# front page cannot drift from the library. PACKAGE=build_tree finds cfgactors
# through -Dcfgactors_DIR=<build>/libcfgactors, PACKAGE=install through
# CMAKE_PREFIX_PATH on a fresh install: the two ways the README names.
set(consumer_label "readme (${PACKAGE})")
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
foreach(var README PACKAGE WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_readme.cmake: ${var} is not set")
  endif()
endforeach()

# What the program prints, apart from the library's log lines (below).
set(expected_output
  "buffer_size 1024\nlogging.level DEBUG\nnew_algorithm for user 42: on\n")

file(READ "${README}" readme)

# Sets OUT_VAR to the body of the fenced block that directly follows
# <!-- readme:NAME --> in the README.
function(readme_block name out_var)
  set(marker "<!-- readme:${name} -->")
  string(FIND "${readme}" "${marker}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${README}: the marker ${marker} is missing")
  endif()
  string(SUBSTRING "${readme}" ${at} -1 rest)
  if(NOT rest MATCHES "^<!-- readme:[^\n]*-->\n```[A-Za-z+]*\n")
    message(FATAL_ERROR
      "${README}: ${marker} is not directly followed by a ``` block")
  endif()
  string(LENGTH "${CMAKE_MATCH_0}" head)
  string(SUBSTRING "${rest}" ${head} -1 rest)
  # The closing fence starts a line; the leading newline finds an empty block.
  string(FIND "\n${rest}" "\n```" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${README}: the block after ${marker} is not closed")
  endif()
  string(SUBSTRING "${rest}" 0 ${end} body)
  string(STRIP "${body}" stripped)
  if(stripped STREQUAL "")
    message(FATAL_ERROR "${README}: the block after ${marker} is empty")
  endif()
  set(${out_var} "${body}" PARENT_SCOPE)
endfunction()

readme_block(config.yaml config_yaml)
readme_block(main.cpp main_cpp)
readme_block(cmake cmake_snippet)

file(REMOVE_RECURSE "${WORK_DIR}")
set(source_dir "${WORK_DIR}/source")
set(run_dir "${WORK_DIR}/run")
file(WRITE "${source_dir}/main.cpp" "${main_cpp}")
# The README's snippet is what links the program; the warnings are the
# project's own, which its front page should meet too.
file(WRITE "${source_dir}/CMakeLists.txt" "\
cmake_minimum_required(VERSION 3.25)
project(readme_app LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
add_executable(app main.cpp)
target_compile_options(app PRIVATE -Wall -Wextra -Werror)
${cmake_snippet}")
file(WRITE "${run_dir}/config.yaml" "${config_yaml}")

if(PACKAGE STREQUAL "build_tree")
  set(package_dir "${LIBRARY_BUILD_DIR}")
  set(find_args "-Dcfgactors_DIR=${package_dir}")
elseif(PACKAGE STREQUAL "install")
  consumer_install("${WORK_DIR}/prefix")
  set(package_dir "${WORK_DIR}/prefix/lib/cmake/cfgactors")
  set(find_args "-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix")
else()
  message(FATAL_ERROR "run_readme.cmake: PACKAGE is build_tree or install, "
                      "not ${PACKAGE}")
endif()
consumer_build("${source_dir}" "${WORK_DIR}/build" app exe ${find_args})

# Another cfgactors on the machine (an old install) must not stand in.
file(STRINGS "${WORK_DIR}/build/CMakeCache.txt" found REGEX "^cfgactors_DIR:")
string(REGEX REPLACE "^[^=]*=" "" found "${found}")
if(NOT found STREQUAL package_dir)
  message(FATAL_ERROR "${consumer_label}: cfgactors was found in ${found}, "
                      "not in ${package_dir}")
endif()

execute_process(COMMAND "${exe}" WORKING_DIRECTORY "${run_dir}" TIMEOUT 60
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${consumer_label}: README.md's program failed (${rc})")
endif()
# The library logs through spdlog's default logger, `[date time] [level] ...`
# lines on stdout unless a service sets another; the rest is the program's.
string(REGEX REPLACE "\n\\[[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [^\n]*"
       "" own "\n${out}")
string(SUBSTRING "${own}" 1 -1 own)
if(NOT own STREQUAL expected_output OR NOT err STREQUAL "")
  message(FATAL_ERROR "${consumer_label}: README.md's program printed\n"
                      "${own}${err}instead of\n${expected_output}")
endif()
message(STATUS "${consumer_label}: README.md's program works")
