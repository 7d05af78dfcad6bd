#include "signalbox/common/result_writer.h"

#include <type_traits>
#include <variant>

namespace signalbox {

void Value::write_to(ResultWriter& out) const {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          out.null();
        } else if constexpr (std::is_same_v<T, bool>) {
          out.boolean(x);
        } else if constexpr (std::is_same_v<T, double>) {
          out.number(x);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out.integer(x);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          out.unsigned_integer(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          out.string(x);
        } else if constexpr (std::is_same_v<T, Value::Array>) {
          out.begin_array(x.size());
          for (const Value& item : x) item.write_to(out);
          out.end_array();
        } else {
          out.begin_object(x.size());
          for (const auto& [key, member] : x) {
            out.key(key);
            member.write_to(out);
          }
          out.end_object();
        }
      },
      data_);
}

}  // namespace signalbox
