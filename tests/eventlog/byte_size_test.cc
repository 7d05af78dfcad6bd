#include "signalbox/common/byte_size.h"

#include <gtest/gtest.h>

namespace signalbox {
namespace {

TEST(ByteSize, BytesAndBinaryUnits) {
  EXPECT_EQ(parse_byte_size("1048576"), 1048576u);
  EXPECT_EQ(parse_byte_size("17B"), 17u);
  EXPECT_EQ(parse_byte_size("4KiB"), 4096u);
  EXPECT_EQ(parse_byte_size("256MiB"), 256u * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("2TiB"), 2ull << 40);
}

TEST(ByteSize, AnythingElseIsRefused) {
  for (const char* bad : {"", "0", "0MiB", "-1", "1.5GiB", "1 GiB", "1gib", "1MB", "MiB", "12x",
                          "99999999999999999999", "16777216TiB"})
    EXPECT_FALSE(parse_byte_size(bad).has_value()) << bad;
}

}  // namespace
}  // namespace signalbox
