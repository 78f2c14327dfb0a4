# adapters.cmake - one static library per backend, ab_adapter_<name>, included by
# allocators/CMakeLists.txt.
#
# Invariants:
#  - ab_adapter_<name> compiles allocators/ab_<name>.c, which defines exactly
#    `const ab_allocator ab_alloc_<name>`, and carries everything needed to link that
#    allocator: linking the library into an executable makes that executable's process
#    malloc the backend's (jemalloc, mimalloc and tcmalloc replace malloc when linked: one
#    allocator per process, DESIGN.md "Process model").
#  - AB_BACKENDS lists the benchmarkable backends in this build; the runners (harness) and
#    the conformance suite (tests/conformance) make one executable per name. It is exported
#    to the top-level scope at the end of this file, so sibling folders see it.
#  - AB_PROCESS_MALLOC_BACKENDS: the backends whose adapter allocates with the process
#    malloc family (so process posix_memalign/free and the adapter's free are one allocator).
#  - AB_MALLOC_REPLACING_BACKENDS: the backends that replace the process malloc; sanitizer
#    builds cannot test them honestly (the sanitizer's malloc replaces them in turn).
#  - ab_adapter_null and ab_adapter_broken are test-only and never in AB_BACKENDS.

set(AB_BACKENDS "")
set(AB_PROCESS_MALLOC_BACKENDS "")
set(AB_MALLOC_REPLACING_BACKENDS "")

# ab_add_adapter(NAME name SOURCE file [LIBS lib...]): the static library ab_adapter_<name>.
function(ab_add_adapter)
  cmake_parse_arguments(A "" "NAME;SOURCE" "LIBS" ${ARGN})
  set(tgt ab_adapter_${A_NAME})
  add_library(${tgt} STATIC ${A_SOURCE})
  target_link_libraries(${tgt} PUBLIC ab_iface Threads::Threads ${A_LIBS})
  target_compile_options(${tgt} PRIVATE ${AB_NO_BUILTIN_MALLOC})
  ab_target_defaults(${tgt})
endfunction()

# ---- sys: glibc (the process malloc when nothing replaces it) ----
ab_add_adapter(NAME sys SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_sys.c)
list(APPEND AB_BACKENDS sys)
list(APPEND AB_PROCESS_MALLOC_BACKENDS sys)

# ---- jemalloc ----
if(TARGET PkgConfig::JEMALLOC)
  ab_add_adapter(NAME jemalloc SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_jemalloc.c
                 LIBS PkgConfig::JEMALLOC)
  list(APPEND AB_BACKENDS jemalloc)
  list(APPEND AB_PROCESS_MALLOC_BACKENDS jemalloc)
  list(APPEND AB_MALLOC_REPLACING_BACKENDS jemalloc)
else()
  message(WARNING "abench: jemalloc not found (libjemalloc-dev): backend 'jemalloc' not built")
endif()

# ---- mimalloc ----
if(TARGET mimalloc)
  ab_add_adapter(NAME mimalloc SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_mimalloc.c LIBS mimalloc)
  list(APPEND AB_BACKENDS mimalloc)
  list(APPEND AB_PROCESS_MALLOC_BACKENDS mimalloc)
  list(APPEND AB_MALLOC_REPLACING_BACKENDS mimalloc)
else()
  message(WARNING "abench: mimalloc not found (libmimalloc-dev): backend 'mimalloc' not built")
endif()

# ---- tcmalloc (gperftools, minimal: no heap profiler) ----
if(TARGET PkgConfig::TCMALLOC)
  ab_add_adapter(NAME tcmalloc SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_tcmalloc.c
                 LIBS PkgConfig::TCMALLOC)
  list(APPEND AB_BACKENDS tcmalloc)
  list(APPEND AB_PROCESS_MALLOC_BACKENDS tcmalloc)
  list(APPEND AB_MALLOC_REPLACING_BACKENDS tcmalloc)
else()
  message(WARNING "abench: tcmalloc not found (libgoogle-perftools-dev): backend 'tcmalloc' not built")
endif()

# ---- boehm: libgc beside glibc (Debian's libgc does not replace malloc) ----
# Links ab_adapter_sys for its glibc check of the process malloc.
if(TARGET PkgConfig::BDWGC)
  ab_add_adapter(NAME boehm SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_boehm.c
                 LIBS PkgConfig::BDWGC ab_adapter_sys)
  list(APPEND AB_BACKENDS boehm)
else()
  message(WARNING "abench: Boehm GC not found (libgc-dev): backend 'boehm' not built")
endif()

# ---- overhead: the harness-cost calibration backend (a trivial allocator of our own) ----
# Benchmarkable like the others so every workload reports the harness's own per-op cost
# beside the allocators' (ab_overhead.c); it does not touch the process malloc.
ab_add_adapter(NAME overhead SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_overhead.c)
list(APPEND AB_BACKENDS overhead)

# ---- test-only backends (not in AB_BACKENDS) ----
# null: forwards to ab_alloc_sys and counts calls per member; broken: sys, but every
# 16th allocation hands out a block that is still live (the conformance suite must catch it).
ab_add_adapter(NAME null SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_null.c LIBS ab_adapter_sys)
ab_add_adapter(NAME broken SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_broken.c LIBS ab_adapter_sys)

# ---- goalloc (engineer goalloc-glue): add ab_goalloc.c / ab_adapter_goalloc HERE ----
# The adapter calls ga_* directly. Outside sanitizer builds it also carries goalloc_malloc
# (preload.c) whole, so the runner's process malloc is goalloc's, as jemalloc's adapter makes
# it jemalloc's; sanitizer builds keep the sanitizer's malloc and test goalloc through ga_*.
if(AB_SANITIZE)
  ab_add_adapter(NAME goalloc SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_goalloc.c LIBS goalloc_core)
else()
  ab_add_adapter(NAME goalloc SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/ab_goalloc.c
                 LIBS goalloc_core "$<LINK_LIBRARY:WHOLE_ARCHIVE,goalloc_malloc>")
  target_compile_definitions(ab_adapter_goalloc PRIVATE AB_GOALLOC_REPLACES_MALLOC=1)
  list(APPEND AB_PROCESS_MALLOC_BACKENDS goalloc)
endif()
# Not in AB_MALLOC_REPLACING_BACKENDS: sanitizer builds and the fuzzers test goalloc honestly
# through ga_* (without goalloc_malloc).
target_compile_definitions(ab_adapter_goalloc PRIVATE AB_GOALLOC_VERSION="${PROJECT_VERSION}"
                                                      GOALLOC_DEBUG=${GOALLOC_DEBUG_LEVEL})
list(APPEND AB_BACKENDS goalloc)
# ---- end of goalloc ----

# Export to the top-level scope (keep this last): harness/ and tests/ are sibling folders.
set(AB_BACKENDS ${AB_BACKENDS} PARENT_SCOPE)
set(AB_PROCESS_MALLOC_BACKENDS ${AB_PROCESS_MALLOC_BACKENDS} PARENT_SCOPE)
set(AB_MALLOC_REPLACING_BACKENDS ${AB_MALLOC_REPLACING_BACKENDS} PARENT_SCOPE)
