#include "signalbox/serve/admission.h"

namespace signalbox {

bool Budget::take(std::size_t n) {
  std::size_t used = used_.load(std::memory_order_relaxed);
  do {
    if (n > limit_ || used > limit_ - n) return false;
  } while (!used_.compare_exchange_weak(used, used + n, std::memory_order_acq_rel));
  return true;
}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::exchange(other.budget_, nullptr);
    held_ = std::exchange(other.held_, 0);
  }
  return *this;
}

bool Reservation::resize(std::size_t total) {
  if (!budget_) return total == 0;
  if (total > held_) {
    if (!budget_->take(total - held_)) return false;
  } else if (total < held_) {
    budget_->give_back(held_ - total);
  }
  held_ = total;
  return true;
}

void Reservation::release() {
  if (budget_ && held_ > 0) budget_->give_back(held_);
  held_ = 0;
}

}  // namespace signalbox
