#include "signalbox/event/reject_reason.h"

#include <set>
#include <string>

#include <gtest/gtest.h>

namespace signalbox {
namespace {

TEST(RejectReason, EveryReasonHasADistinctLabelAndAMeaning) {
  std::set<std::string_view> labels;
  for (std::size_t i = 0; i < kRejectReasons.size(); ++i) {
    const RejectReason reason = kRejectReasons[i];
    EXPECT_EQ(reject_reason_index(reason), i) << "kRejectReasons follows the enum's order";
    const RejectReasonInfo& info = reject_reason_info(reason);
    EXPECT_FALSE(info.label.empty()) << i;
    EXPECT_FALSE(info.meaning.empty()) << info.label;
    EXPECT_TRUE(labels.insert(info.label).second) << "label used twice: " << info.label;
    EXPECT_EQ(reject_reason_label(reason), info.label);
    // A Prometheus label value that needs no escaping.
    for (char c : info.label) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << info.label;
  }
  EXPECT_EQ(labels.size(), kRejectReasonCount);
}

// Dashboards and alerts (docs/operations.md) match on these: changing one breaks them.
TEST(RejectReason, LabelsAreTheDocumentedOnes) {
  std::string all;
  for (RejectReason reason : kRejectReasons) all += std::string(reject_reason_label(reason)) + " ";
  EXPECT_EQ(all,
            "json user_id ts action event_id item_id query attrs late future unknown_field other ");
}

TEST(RejectReason, OnlyLateIsLateAndOnlyUnreadableInputIsUndecodable) {
  for (RejectReason reason : kRejectReasons) {
    RejectClass kind = reject_reason_info(reason).kind;
    EXPECT_EQ(kind == RejectClass::kLate, reason == RejectReason::kLate)
        << reject_reason_label(reason);
    EXPECT_EQ(kind == RejectClass::kUndecodable,
              reason == RejectReason::kJson || reason == RejectReason::kOther)
        << reject_reason_label(reason);
  }
}

TEST(RejectReason, MessagesStartWithTheFieldAtFault) {
  Rejection late = Rejection::of(RejectReason::kLate, "5 is too late");
  EXPECT_EQ(late.reason, RejectReason::kLate);
  EXPECT_EQ(late.message, "ts: 5 is too late");
  EXPECT_EQ(Rejection::of(RejectReason::kUserId, "required").message, "user_id: required");
  EXPECT_EQ(Rejection::of(RejectReason::kJson, "empty document").message, "json: empty document");
  // Their messages start with the client's text or vary: no field to put first.
  EXPECT_THROW(Rejection::of(RejectReason::kUnknownField, "x"), std::logic_error);
  EXPECT_THROW(Rejection::of(RejectReason::kOther, "x"), std::logic_error);
}

}  // namespace
}  // namespace signalbox
