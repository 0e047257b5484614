# cfgactors_unity_by_folder(TARGET): compiles TARGET's sources a folder at a
# time (a unity build grouped by concept folder). The sources of a folder
# share the parsing of their headers (CAF, Beast, nlohmann) and their
# template instantiations, which is most of the compile time: a cold build
# of everything is bound to 30 minutes on two cores. A file in a folder of
# its own still compiles alone.
#
# -DCFGACTORS_UNITY_BUILD=OFF makes it do nothing: every file compiles
# alone, which is how a missing #include shows: in a unity build a file also
# sees the includes of the files before it in its folder.
include_guard(GLOBAL)

option(CFGACTORS_UNITY_BUILD
       "Compile sources a concept folder at a time (OFF: each file alone)" ON)

function(cfgactors_unity_by_folder target)
  if(NOT CFGACTORS_UNITY_BUILD)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  foreach(source IN LISTS sources)
    get_filename_component(dir "${source}" DIRECTORY)
    get_filename_component(folder "${dir}" NAME)
    if(folder STREQUAL "")
      set(folder "${target}") # a source named without a folder
    endif()
    set_property(SOURCE "${source}" PROPERTY UNITY_GROUP "${folder}")
  endforeach()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON
                                             UNITY_BUILD_MODE GROUP)
endfunction()
