#pragma once

// The fixed instants and tolerances the tests share (tests/common is on every test's include path).

#include "signalbox/common/time.h"

namespace signalbox::testing {

inline constexpr TimeMs kStart = 1704067200000;  // 2024-01-01T00:00:00Z
// For sums and means recomputed by a reference in another order of additions.
inline constexpr double kTolerance = 1e-9;

}  // namespace signalbox::testing
