# lockgraph_add_suite_check(): checks the lock order of a whole test suite under plain `ctest`.
#
#   lockgraph_add_suite_check(<name>
#     [TARGETS <gtest target>...]  # gtest_discover_tests() on each: every test it finds joins the check
#     [TESTS <regex>...]           # tests already added (add_test) in this directory whose names match
#     [DIR <dir>]                  # edge logs and reports (default: <current binary dir>/<name>)
#     [DISCOVER_ARGS <arg>...]     # passed on to gtest_discover_tests (not PROPERTIES)
#     [MERGE_ARGS <arg>...])       # more lockgraph-merge arguments (e.g. --check-order FILE)
#
# A one-process-per-test suite (gtest_discover_tests) never shows an inversion split over two tests to
# any single process. This adds a ctest fixture <name>:
#   - test <name>.setup empties DIR;
#   - every test of the check runs with edge_log=DIR/edges appended to LOCKGRAPH_OPTIONS (keys the
#     environment already sets stay), so each process writes its class-level lock-order edges there;
#   - test <name> runs after them all: lockgraph-merge over DIR/edges, the suite's cycles as text on
#     its output, as JSON + DOT in DIR/reports (rendered to SVG when Graphviz' dot is found), the whole
#     graph in DIR/suite.dot; it fails on a cycle.
# `ctest -R <a test>` runs the setup and the check with it (fixtures). <name>_TEST_PROPERTIES is set in
# the caller's scope: the test properties that make any other test (added later, or discovered by your
# own gtest_discover_tests call) join the check.
# Works with find_package(lockgraph) (the installed lockgraph::merge) and add_subdirectory(lockgraph).
function(lockgraph_add_suite_check name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "DIR" "TARGETS;TESTS;DISCOVER_ARGS;MERGE_ARGS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "lockgraph_add_suite_check(${name}): unknown arguments ${arg_UNPARSED_ARGUMENTS} (accepted: TARGETS, TESTS, DIR, DISCOVER_ARGS, MERGE_ARGS)")
  endif()
  if(NOT TARGET lockgraph::merge)
    message(FATAL_ERROR "lockgraph_add_suite_check(${name}): lockgraph::merge (the lockgraph-merge tool) is not available (a LOCKGRAPH_DISABLE build has none)")
  endif()
  if(NOT arg_DIR)
    set(arg_DIR ${CMAKE_CURRENT_BINARY_DIR}/${name})
  endif()
  if(arg_DIR MATCHES "'")
    message(FATAL_ERROR "lockgraph_add_suite_check(${name}): DIR '${arg_DIR}' contains a ', which LOCKGRAPH_OPTIONS cannot carry")
  endif()

  add_test(NAME ${name}.setup COMMAND ${CMAKE_COMMAND} -E rm -rf ${arg_DIR})
  set_tests_properties(${name}.setup PROPERTIES FIXTURES_SETUP ${name})
  list(JOIN arg_MERGE_ARGS "|" merge_args)  # one command-line word; the script splits it again
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -DMERGE=$<TARGET_FILE:lockgraph::merge> -DDIR=${arg_DIR}
           "-DMERGE_ARGS=${merge_args}" -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/LockgraphSuiteMerge.cmake)
  set_tests_properties(${name} PROPERTIES FIXTURES_CLEANUP ${name})

  # The value is quoted in LOCKGRAPH_OPTIONS (the path may hold ':' or spaces); ',' separates it from
  # whatever the environment already says (an empty segment when it says nothing).
  set(props FIXTURES_REQUIRED ${name}
            ENVIRONMENT_MODIFICATION "LOCKGRAPH_OPTIONS=string_append:,edge_log='${arg_DIR}/edges'")
  set(${name}_TEST_PROPERTIES ${props} PARENT_SCOPE)

  if(arg_TESTS)
    get_property(existing DIRECTORY PROPERTY TESTS)
    set(joined)
    foreach(t IN LISTS existing)
      if(t STREQUAL "${name}" OR t STREQUAL "${name}.setup")
        continue()
      endif()
      foreach(re IN LISTS arg_TESTS)
        if(t MATCHES "${re}")
          list(APPEND joined ${t})
          break()
        endif()
      endforeach()
    endforeach()
    if(NOT joined)
      message(WARNING "lockgraph_add_suite_check(${name}): no test in this directory matches TESTS ${arg_TESTS}")
    else()
      set_tests_properties(${joined} PROPERTIES ${props})
    endif()
  endif()
  if(arg_TARGETS)
    include(GoogleTest)
    foreach(target IN LISTS arg_TARGETS)
      gtest_discover_tests(${target} ${arg_DISCOVER_ARGS} PROPERTIES ${props})
    endforeach()
  endif()
endfunction()
