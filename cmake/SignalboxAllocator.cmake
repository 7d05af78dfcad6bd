# The memory allocator of the programs Signalbox ships and measures (the `signalbox` executable
# and bench/). A query builds and frees many small objects (decoded tiles, group keys, JSON
# values) and ingest many small strings: with glibc's malloc, allocation was a fifth of a
# query's instructions. Measured under callgrind (docs/performance.md): mimalloc cut a
# light-user query by 17 %, a heavy-user one by 18 % and a replay by 10 %; jemalloc by 16 %,
# 16 % and 8 %.
#
# Linked as a shared library it replaces malloc/free for the whole process (RocksDB, gRPC and
# plugins included), so the code needs no change. Sanitizer builds keep the system allocator:
# ASan and TSan intercept malloc themselves.
set(SIGNALBOX_ALLOCATOR "mimalloc" CACHE STRING
    "Allocator of the signalbox executable and the benchmarks: mimalloc, jemalloc or system")
set_property(CACHE SIGNALBOX_ALLOCATOR PROPERTY STRINGS mimalloc jemalloc system)

if(SIGNALBOX_SANITIZE OR SIGNALBOX_TSAN OR SIGNALBOX_FUZZ)
  set(signalbox_allocator_in_use system)
else()
  set(signalbox_allocator_in_use "${SIGNALBOX_ALLOCATOR}")
endif()

if(signalbox_allocator_in_use STREQUAL "mimalloc")
  find_package(mimalloc CONFIG)
  if(NOT mimalloc_FOUND)
    message(FATAL_ERROR "SIGNALBOX_ALLOCATOR is mimalloc but mimalloc was not found: install "
                        "libmimalloc-dev (scripts/install-deps.sh does), or configure with "
                        "-DSIGNALBOX_ALLOCATOR=system")
  endif()
  set(signalbox_allocator_library mimalloc)
elseif(signalbox_allocator_in_use STREQUAL "jemalloc")
  find_library(SIGNALBOX_JEMALLOC_LIBRARY NAMES jemalloc)
  if(NOT SIGNALBOX_JEMALLOC_LIBRARY)
    message(FATAL_ERROR "SIGNALBOX_ALLOCATOR is jemalloc but libjemalloc was not found: install "
                        "libjemalloc-dev, or configure with -DSIGNALBOX_ALLOCATOR=system")
  endif()
  set(signalbox_allocator_library "${SIGNALBOX_JEMALLOC_LIBRARY}")
elseif(signalbox_allocator_in_use STREQUAL "system")
  set(signalbox_allocator_library "")
else()
  message(FATAL_ERROR "SIGNALBOX_ALLOCATOR must be mimalloc, jemalloc or system, not "
                      "\"${SIGNALBOX_ALLOCATOR}\"")
endif()
message(STATUS "Signalbox allocator: ${signalbox_allocator_in_use}")

# Links the chosen allocator into an executable. The linker would drop a library none of
# whose symbols the program names, so it is kept with --no-as-needed.
function(signalbox_link_allocator target)
  if(signalbox_allocator_library)
    target_link_libraries(${target} PRIVATE -Wl,--no-as-needed ${signalbox_allocator_library}
                          -Wl,--as-needed)
  endif()
  if(signalbox_allocator_in_use STREQUAL "mimalloc")
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src/signalbox/cli/mimalloc_options.cc)
  endif()
endfunction()
