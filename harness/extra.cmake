# extra.cmake - build facts for meta.json and the runners `abench` needs (included by
# harness/CMakeLists.txt after the abench target; owned by the run side of the harness).
if(TARGET abench)
  string(TOUPPER "${CMAKE_BUILD_TYPE}" _ab_bt)
  string(STRIP "${CMAKE_C_FLAGS} ${CMAKE_C_FLAGS_${_ab_bt}}" _ab_flags)
  target_compile_definitions(abench PRIVATE
    AB_TOOL_VERSION="${PROJECT_VERSION}"
    AB_COMPILER="${CMAKE_C_COMPILER_ID} ${CMAKE_C_COMPILER_VERSION}"
    AB_BUILD_TYPE="${CMAKE_BUILD_TYPE}"
    AB_BUILD_FLAGS="${_ab_flags} AB_SANITIZE=${AB_SANITIZE} GOALLOC_DEBUG_LEVEL=${GOALLOC_DEBUG_LEVEL}"
    AB_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  # `abench` finds its runners beside itself: building abench builds them.
  foreach(_ab_r IN LISTS AB_BACKENDS ITEMS null)
    if(TARGET abench-runner-${_ab_r})
      add_dependencies(abench abench-runner-${_ab_r})
    endif()
  endforeach()
  if(TARGET abench_runner_go_runtime)
    add_dependencies(abench abench_runner_go_runtime)
  endif()
  if(TARGET goalloc-sizeclasses)
    add_dependencies(abench goalloc-sizeclasses)
  endif()
endif()
