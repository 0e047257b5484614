# bench.charts: bench/charts.py on docs/bench/ into an empty directory, twice.
# Every bench output there must give a non-empty SVG of its name, nothing
# else, and the second run the same bytes. Each docs/bench file must be a
# code block of docs/BENCHMARKS.md, verbatim, with its chart right below it.
#   cmake -DPYTHON=python3 -DSOURCE_DIR=path/to/cfgactors -DOUT=scratch/dir
#         -P charts_test.cmake
file(GLOB inputs "${SOURCE_DIR}/docs/bench/*.txt")
if(NOT inputs)
  message(FATAL_ERROR "no bench output in ${SOURCE_DIR}/docs/bench")
endif()
file(READ "${SOURCE_DIR}/docs/BENCHMARKS.md" doc)

foreach(run IN ITEMS first second)
  file(REMOVE_RECURSE "${OUT}/${run}")
  execute_process(
    COMMAND "${PYTHON}" "${SOURCE_DIR}/bench/charts.py"
            "${SOURCE_DIR}/docs/bench" "${OUT}/${run}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "charts.py exited with '${rc}'\n${err}")
  endif()
endforeach()

set(expected "")
foreach(input IN LISTS inputs)
  get_filename_component(name "${input}" NAME_WE)
  list(APPEND expected "${name}.svg")
  set(svg "${OUT}/first/${name}.svg")
  if(NOT EXISTS "${svg}")
    message(FATAL_ERROR "${input}: no ${name}.svg written")
  endif()
  file(SIZE "${svg}" size)
  file(STRINGS "${svg}" closing REGEX "</svg>")
  if(size EQUAL 0 OR NOT closing)
    message(FATAL_ERROR "${svg}: empty or not a whole SVG (${size} bytes)")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
                          "${svg}" "${OUT}/second/${name}.svg"
                  RESULT_VARIABLE differ)
  if(NOT differ EQUAL 0)
    message(FATAL_ERROR "${name}.svg: a second run wrote other bytes")
  endif()

  file(READ "${input}" table)
  string(FIND "${doc}" "\n```\n${table}```\n\n![" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${input} is not a code block of docs/BENCHMARKS.md, "
                        "verbatim, with a chart right below it")
  endif()
  string(LENGTH "\n```\n${table}```\n\n" skip)
  math(EXPR at "${at} + ${skip}")
  string(SUBSTRING "${doc}" ${at} 400 below)
  string(REGEX MATCH "^[^\n]*" image_line "${below}")
  string(FIND "${image_line}" "](charts/${name}.svg)" link)
  if(link EQUAL -1)
    message(FATAL_ERROR "docs/BENCHMARKS.md: below the block of ${input} is "
                        "'${image_line}', not its chart charts/${name}.svg")
  endif()
endforeach()

file(GLOB written RELATIVE "${OUT}/first" "${OUT}/first/*")
list(SORT written)
list(SORT expected)
if(NOT written STREQUAL expected)
  message(FATAL_ERROR "charts.py wrote '${written}', expected '${expected}'")
endif()
