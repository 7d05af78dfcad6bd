#pragma once

// Built-in views kept in files of their own; view.cc registers them when the registry is
// created.

#include <map>
#include <string>

#include "signalbox/config/named_registry.h"
#include "signalbox/view/view.h"

namespace signalbox {

using RegisteredView = NamedRegistry<ViewFactory>::Entry;

// ratio: one window of a signal over another, per group key (ratio.cc).
void add_ratio_view(std::map<std::string, RegisteredView>& factories);
// bucketize: a number into configured buckets (bucketize.cc).
void add_bucketize_view(std::map<std::string, RegisteredView>& factories);

}  // namespace signalbox
