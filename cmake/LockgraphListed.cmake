# lockgraph_check_listed(<what> <base dir> <glob> <listed file>...): sources are listed by hand (adding
# a file is a decision), but a file on disk that no list names would silently not be built or run: fail
# the configure naming it instead.
function(lockgraph_check_listed what base glob)
  file(GLOB_RECURSE on_disk RELATIVE ${base} ${base}/${glob})
  set(missing)
  foreach(f IN LISTS on_disk)
    if(NOT f IN_LIST ARGN)
      list(APPEND missing ${f})
    endif()
  endforeach()
  if(missing)
    list(JOIN missing ", " missing)
    message(FATAL_ERROR "lockgraph: ${what}: ${missing} exist(s) under ${base} but no list in CMake names it; add it to the list (or delete the file)")
  endif()
endfunction()
