#pragma once

#include <string>
#include <string_view>

namespace signalbox {

// `text` as a label value of the Prometheus text exposition format: backslash, double quote
// and line feed escaped, everything else as it is. Pure; safe from any thread.
std::string prometheus_label_value(std::string_view text);

}  // namespace signalbox
