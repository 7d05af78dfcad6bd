#include "signalbox/verify/verify_report.h"

namespace signalbox {

std::vector<const SignalTally*> VerifyReport::below(double threshold) const {
  std::vector<const SignalTally*> failing;
  for (const SignalTally& tally : tallies)
    if (tally.compared() > 0 && tally.match_rate() < threshold) failing.push_back(&tally);
  return failing;
}

}  // namespace signalbox
