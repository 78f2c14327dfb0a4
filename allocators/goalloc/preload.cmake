# preload.cmake - goalloc as the process malloc (included by allocators/goalloc/CMakeLists.txt).
#
#  - goalloc_malloc: static library of preload.c (malloc, free, ... forwarding to ga_*), linked
#    whole into ab_adapter_goalloc so the goalloc runner's process malloc is goalloc's.
#  - goalloc-malloc: libgoalloc-malloc.so for LD_PRELOAD. It carries all of goalloc_core and
#    exports only the malloc family and the public ga_* API (the version script below).
#    Not built in sanitizer builds.
add_library(goalloc_malloc STATIC ${CMAKE_CURRENT_SOURCE_DIR}/preload.c)
target_link_libraries(goalloc_malloc PUBLIC goalloc_core)
target_include_directories(goalloc_malloc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(goalloc_malloc PRIVATE GOALLOC_DEBUG=${GOALLOC_DEBUG_LEVEL}
                                                 $<$<BOOL:${GOALLOC_TEST_HOOKS}>:GOALLOC_TEST_HOOKS=1>)
target_compile_options(goalloc_malloc PRIVATE ${AB_NO_BUILTIN_MALLOC})
set_target_properties(goalloc_malloc PROPERTIES POSITION_INDEPENDENT_CODE ON)
ab_target_defaults(goalloc_malloc)

# Sanitizer builds replace malloc themselves: a second replacement would fight theirs.
if(AB_SANITIZE)
  message(STATUS "goalloc: AB_SANITIZE is set: libgoalloc-malloc.so (LD_PRELOAD) not built")
  return()
endif()

set(GA_PRELOAD_MAP ${CMAKE_CURRENT_BINARY_DIR}/goalloc-malloc.map)
file(CONFIGURE OUTPUT ${GA_PRELOAD_MAP} CONTENT "{
  global:
    malloc; free; cfree; calloc; realloc; reallocarray; aligned_alloc; posix_memalign;
    memalign; valloc; pvalloc; malloc_usable_size;
    ga_*;
  local: *;
};
")
add_library(goalloc-malloc SHARED ${CMAKE_CURRENT_SOURCE_DIR}/preload.c)
target_include_directories(goalloc-malloc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                                                  ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_compile_definitions(goalloc-malloc PRIVATE GOALLOC_DEBUG=${GOALLOC_DEBUG_LEVEL}
                                                 $<$<BOOL:${GOALLOC_TEST_HOOKS}>:GOALLOC_TEST_HOOKS=1>)
target_compile_options(goalloc-malloc PRIVATE ${AB_NO_BUILTIN_MALLOC})
target_link_libraries(goalloc-malloc PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,goalloc_core>"
                                             Threads::Threads)
target_link_options(goalloc-malloc PRIVATE -Wl,--no-undefined -Wl,-Bsymbolic-functions
                    -Wl,--version-script=${GA_PRELOAD_MAP})
set_target_properties(goalloc-malloc PROPERTIES OUTPUT_NAME goalloc-malloc
                      LINK_DEPENDS ${GA_PRELOAD_MAP})
ab_target_defaults(goalloc-malloc)
install(TARGETS goalloc-malloc LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
