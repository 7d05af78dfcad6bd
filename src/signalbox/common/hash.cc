#include "signalbox/common/hash.h"

#include <xxhash.h>

namespace signalbox {

std::uint64_t hash64(std::string_view bytes, std::uint64_t seed) {
  return XXH64(bytes.data(), bytes.size(), seed);
}

}  // namespace signalbox
