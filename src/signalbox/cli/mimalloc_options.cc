// mimalloc's settings for the programs that link it (cmake/SignalboxAllocator.cmake adds this
// file to each of them).
//
// By default mimalloc gives an emptied page back to the system 25 ms after it empties. Ingest
// and queries free and allocate about the same amounts again and again (batches, memtable
// arenas, decoded tiles), so those pages came back at once as page faults: a replay spent 14 %
// of its CPU time in the kernel, mostly zeroing them. A delay of one second keeps the pages of
// a steady load and still returns what a burst left behind (docs/performance.md). A
// MIMALLOC_DECOMMIT_DELAY in the environment still takes precedence.
#include <mimalloc.h>

namespace {

const bool kDecommitDelaySet = [] {
  mi_option_set_default(mi_option_decommit_delay, 1000);
  return true;
}();

}  // namespace
