# lockgraph_link_private_archive(<target> <archive>): links <target> with a static archive that is a
# private implementation detail found by absolute path (e.g. GCC's own libbacktrace.a), without that
# path ever reaching the installed package.
#
# - <target> is a STATIC library: a static library cannot link anything itself; CMake would export the
#   archive's absolute path as $<LINK_ONLY:/usr/lib/gcc/.../libbacktrace.a> and pin every consumer to
#   the builder's compiler and layout. Instead the archive's members are extracted at configure time and
#   become objects of <target>, so liblockgraph.a is self-contained. (The archive must be
#   position-independent when <target> is; GCC's libbacktrace.a is.)
# - Any other type (SHARED, MODULE): a PRIVATE link; private dependencies of a shared library are
#   resolved when it is linked and are not exported.
function(lockgraph_link_private_archive target archive)
  get_target_property(type ${target} TYPE)
  if(NOT type STREQUAL "STATIC_LIBRARY")
    target_link_libraries(${target} PRIVATE "${archive}")
    return()
  endif()
  get_filename_component(name "${archive}" NAME_WE)
  set(dir "${CMAKE_CURRENT_BINARY_DIR}/private-archives/${name}")
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
  execute_process(COMMAND "${CMAKE_AR}" t "${archive}" OUTPUT_VARIABLE members RESULT_VARIABLE status
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "lockgraph: cannot list the members of ${archive} with ${CMAKE_AR}")
  endif()
  string(REPLACE "\n" ";" members "${members}")
  list(LENGTH members count)
  list(REMOVE_DUPLICATES members)
  list(LENGTH members unique)
  if(NOT count EQUAL unique)
    message(FATAL_ERROR "lockgraph: ${archive} has members with the same name; cannot embed it into ${target}")
  endif()
  execute_process(COMMAND "${CMAKE_AR}" x "${archive}" WORKING_DIRECTORY "${dir}" RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "lockgraph: cannot extract ${archive} with ${CMAKE_AR}")
  endif()
  list(TRANSFORM members PREPEND "${dir}/")
  set_source_files_properties(${members} PROPERTIES EXTERNAL_OBJECT TRUE)
  target_sources(${target} PRIVATE ${members})
  # Re-run the extraction when the archive changes (e.g. a compiler update).
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${archive}")
endfunction()
