# Runs one compile that must fail with one clear message and nothing after it:
#   cmake -DCOMPILER=c++ -DSOURCE=file.cpp -DINCLUDE=dir -DSTD=c++14 -DMESSAGE=regex -P expect_compile_error.cmake
execute_process(COMMAND ${COMPILER} -std=${STD} -fsyntax-only -I${INCLUDE} ${SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(rc EQUAL 0)
  message(FATAL_ERROR "compiling ${SOURCE} with -std=${STD} succeeded; it must fail:\n${out}")
endif()
if(NOT out MATCHES "${MESSAGE}")
  message(FATAL_ERROR "compiler output lacks the expected message '${MESSAGE}':\n${out}")
endif()
# Exactly one "error:" besides the fatal stop (no cascade from the rest of the headers).
string(REGEX MATCHALL "[^l] error: " errors "${out}")  # "fatal error:" excluded
list(LENGTH errors n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected exactly one error (plus the fatal stop), saw ${n}:\n${out}")
endif()
message(STATUS "failed as expected:\n${out}")
