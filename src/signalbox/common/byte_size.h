#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace signalbox {

// Parses an amount of memory or disk: a whole number of bytes ("1048576"), or a whole number
// with a binary unit, B, KiB, MiB, GiB or TiB ("256MiB", "1GiB"; no space, case as written).
// Returns nullopt for anything else, for 0 and for amounts beyond 64 bits.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

}  // namespace signalbox
