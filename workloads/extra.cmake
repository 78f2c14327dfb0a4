# Extra workload targets (included by workloads/CMakeLists.txt).
#
# libabench-trace.so: the LD_PRELOAD trace recorder (workloads/trace/recorder.c). It is loaded
# into programs that are not built with our sanitizers, so it is built without them (an ASan
# runtime in a preload library that is not first in the list aborts the program).
add_library(abench-trace SHARED ${CMAKE_CURRENT_SOURCE_DIR}/trace/recorder.c)
target_link_libraries(abench-trace PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
target_compile_options(abench-trace PRIVATE ${AB_NO_BUILTIN_MALLOC})
ab_target_defaults(abench-trace)
foreach(prop COMPILE_OPTIONS LINK_OPTIONS)
  get_target_property(opts abench-trace ${prop})
  if(opts)
    list(FILTER opts EXCLUDE REGEX "sanitize")
    set_target_properties(abench-trace PROPERTIES ${prop} "${opts}")
  endif()
endforeach()
install(TARGETS abench-trace LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
