#pragma once

#include <atomic>
#include <string>
#include <vector>

namespace signalbox {

// Whether the lines of `files`, read in the order given as one stream, are non-decreasing in
// ts: one pass that reads only each line's ts (LineTimeReader). Lines whose ts cannot be read
// are left out of the comparison (the decoder rejects them wherever they are, so their place
// changes nothing). Standard input ("-") cannot be read twice, so a list naming it is never
// reported in order: it has to be sorted.
//
// Stops at the first line out of order. `progress` draws a "check order" phase on stderr;
// `stop`, when set and true, ends the check with std::runtime_error("interrupted"). Throws
// std::runtime_error naming the file when one cannot be read. Keeps no state: may be called
// from any thread.
bool logs_in_time_order(const std::vector<std::string>& files, bool progress,
                        const std::atomic<bool>* stop = nullptr);

}  // namespace signalbox
