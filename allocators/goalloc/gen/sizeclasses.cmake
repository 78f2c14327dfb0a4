# gen/sizeclasses.cmake - goalloc's size-class tables, generated at build time (included by
# allocators/goalloc/CMakeLists.txt).
#
# goalloc-mksizeclasses (gen/mksizeclasses.c, a build-host tool) applies Go's rules
# (GO_ALLOCATOR_SPEC.md 1.3) and writes sizeclasses_gen.c into the build tree; goalloc_core
# compiles it. goalloc-sizeclasses prints the compiled table as CSV (`abench goalloc
# sizeclasses` execs it); it is built from the same generated file and sizeclass.c only, so
# it does not depend on the rest of goalloc_core (sizeclass.c asserts through debug.c).
add_executable(goalloc-mksizeclasses ${CMAKE_CURRENT_LIST_DIR}/mksizeclasses.c)
ab_target_defaults(goalloc-mksizeclasses)

set(GA_SIZECLASSES_GEN ${CMAKE_CURRENT_BINARY_DIR}/sizeclasses_gen.c)
add_custom_command(
  OUTPUT ${GA_SIZECLASSES_GEN}
  COMMAND goalloc-mksizeclasses ${GA_SIZECLASSES_GEN}
  DEPENDS goalloc-mksizeclasses
  COMMENT "Generating goalloc size classes"
  VERBATIM)
target_sources(goalloc_core PRIVATE ${GA_SIZECLASSES_GEN})

add_executable(goalloc-sizeclasses ${CMAKE_CURRENT_LIST_DIR}/sizeclasses_csv.c
                                   ${CMAKE_CURRENT_SOURCE_DIR}/sizeclass.c
                                   ${CMAKE_CURRENT_SOURCE_DIR}/debug.c ${GA_SIZECLASSES_GEN})
target_include_directories(goalloc-sizeclasses PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}
                                                       ${CMAKE_CURRENT_SOURCE_DIR}/include)
target_compile_definitions(goalloc-sizeclasses PRIVATE GOALLOC_DEBUG=${GOALLOC_DEBUG_LEVEL})
ab_target_defaults(goalloc-sizeclasses)
install(TARGETS goalloc-sizeclasses RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Build configuration that options.c prints under GOALLOC_VERBOSE=1.
set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/options.c APPEND PROPERTY COMPILE_DEFINITIONS
             GOALLOC_VERSION="${PROJECT_VERSION}")
