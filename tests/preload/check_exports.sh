#!/usr/bin/env bash
# check_exports.sh LIB - libgoalloc-malloc.so exports the whole malloc family and, besides it,
# only goalloc's public ga_* API (no _ga_ internals, no stray helpers that could clash with a
# program's own symbols). Exit 0 pass, 1 fail, 2 usage.
set -uo pipefail
lib=${1:-}
[ -f "$lib" ] || { echo "check_exports.sh: no library at '$lib'" >&2; exit 2; }
command -v nm >/dev/null || { echo "check_exports.sh: nm (binutils) not installed" >&2; exit 1; }
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWiDdBbVv]$/ {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$syms" ] || { echo "FAIL: $lib exports nothing" >&2; exit 1; }
rc=0
for f in malloc free calloc realloc reallocarray aligned_alloc posix_memalign memalign valloc \
         pvalloc malloc_usable_size cfree ga_malloc ga_free ga_owns; do
  grep -qx "$f" <<<"$syms" || { echo "FAIL: $f is not exported" >&2; rc=1; }
done
family='^(malloc|free|calloc|realloc|reallocarray|aligned_alloc|posix_memalign|memalign|valloc|pvalloc|malloc_usable_size|cfree)$'
stray=$(grep -Ev "$family" <<<"$syms" | grep -Ev '^ga_' || true)
[ -z "$stray" ] || { echo "FAIL: exported beyond the malloc family and ga_*: $(echo $stray)" >&2; rc=1; }
[ $rc -eq 0 ] && echo "ok: $(wc -l <<<"$syms") symbols, the malloc family and ga_* only"
exit $rc
