#include "signalbox/engine/plan_cache.h"

namespace signalbox {

std::shared_ptr<const WindowedPlans> PlanCache::find(TimeMs as_of, const OnlineState& online,
                                                     TimeMs complete_from) {
  MutexLock lock(mutex_);
  if (last_ && last_->made_for(as_of, online, complete_from)) return last_;
  return nullptr;
}

std::shared_ptr<const WindowedPlans> PlanCache::keep(WindowedPlans plans, TimeMs as_of,
                                                     const OnlineState& online,
                                                     TimeMs complete_from) {
  plans.as_of = as_of;
  plans.online = online;
  plans.complete_from = complete_from;
  auto made = std::make_shared<const WindowedPlans>(std::move(plans));
  MutexLock lock(mutex_);
  last_ = made;
  return made;
}

}  // namespace signalbox
