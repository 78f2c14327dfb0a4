# Warning set and sanitizer flags shared by every target (STYLE.md: Formatting and warnings).
set(AB_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes)
if(AB_WERROR)
  list(APPEND AB_WARNINGS -Werror)
endif()

# Workload and runner code must keep malloc/free pairs the optimiser would otherwise delete
# (BENCH_METHOD.md: gcc -O2 deletes unused malloc/free pairs).
set(AB_NO_BUILTIN_MALLOC -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc
    -fno-builtin-free)

if(AB_SANITIZE)
  add_compile_options(-fsanitize=${AB_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${AB_SANITIZE})
endif()

if(GOALLOC_DEBUG_LEVEL STREQUAL "")
  if(CMAKE_BUILD_TYPE STREQUAL "Debug")
    set(GOALLOC_DEBUG_LEVEL 2)
  else()
    set(GOALLOC_DEBUG_LEVEL 0)
  endif()
endif()

# ab_target_defaults(tgt): the warning set on one of our own targets.
function(ab_target_defaults tgt)
  target_compile_options(${tgt} PRIVATE ${AB_WARNINGS})
endfunction()
