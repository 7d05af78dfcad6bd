#include "signalbox/engine/plan_cache.h"

namespace signalbox {

std::shared_ptr<const WindowedPlans> PlanCache::get(TimeMs as_of, const OnlineState& online,
                                                    TimeMs complete_from,
                                                    const std::function<WindowedPlans()>& make) {
  {
    MutexLock lock(mutex_);
    if (last_ && last_->made_for(as_of, online, complete_from)) return last_;
  }
  // Made without the lock: planning takes a while, and two threads making the same plans
  // at once only waste one of them.
  WindowedPlans plans = make();
  plans.as_of = as_of;
  plans.online = online;
  plans.complete_from = complete_from;
  auto made = std::make_shared<const WindowedPlans>(std::move(plans));
  MutexLock lock(mutex_);
  last_ = made;
  return made;
}

}  // namespace signalbox
