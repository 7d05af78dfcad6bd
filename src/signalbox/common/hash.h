#pragma once

#include <cstdint>
#include <string_view>

namespace signalbox {

// 64-bit xxHash of `bytes` with `seed`. Stable across versions and machines: it is part of
// stored keys and derived event ids.
std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0);

}  // namespace signalbox
