// `session_mean`: a user's taste as mean item embeddings - over each window, and over the
// newest session (a run of events at most `gap` apart) - from one state.
//
//   - { name: taste, aggregator: session_mean, value: pin.embedding, gap: 30m,
//       actions: { click: 1, closeup: 1, save: 3 }, windows: [1d, 90d] }
//
// Result per window: {"mean": [...], "events": n, "session": {"mean": [...], "start": ts,
// "end": ts, "events": n, "current": bool}}, where `session` is the newest session among the
// window's events (null when there are none) and `current` tells whether it may still be
// going on (as_of - end <= gap). Means are weighted by the action weights; a mean is null
// when its weights sum to 0.
//
// Why it is exact through tiles. The state is the list of the sessions of the events folded
// so far: each session's first and last ts, event count, Σ weight and Σ weight × vector.
// Merging two states takes both lists and joins any two sessions less than or equal to `gap`
// apart (or overlapping), repeatedly, by one pass in order of start. That gives exactly the
// sessions of the union of the two event sets: inside a session every event is at most `gap`
// from the next, and adding events only shortens those steps, so each session of either
// side lies within one session of the union; and two sessions end up joined exactly when a
// chain of at most-`gap` steps leads from one to the other, which is when their intervals
// come within `gap` of each other. So merge is commutative and associative with the empty
// list as identity - the monoid the engine's tiles need - and no session is ever cut at a
// tile's edge. The window means are sums over all sessions.
//
// Cost: sessions of one state are more than `gap` apart, so a tile of length L keeps at most
// L / gap + 1 of them (3 for an hour tile and 49 for a day tile with gap 30m), each with one
// double per dimension.

#include <signalbox/signal_kit.h>

#include <algorithm>
#include <string>
#include <vector>

namespace {

using namespace signalbox;

struct Session {
  TimeMs start = 0;
  TimeMs end = 0;
  std::uint64_t events = 0;
  double weight = 0;
  std::vector<double> sums;  // Σ weight × vector
};

struct Sessions {
  std::vector<Session> list;  // by start; consecutive sessions more than `gap` apart
};

void add_into(Session& into, const Session& from) {
  into.start = std::min(into.start, from.start);
  into.end = std::max(into.end, from.end);
  into.events += from.events;
  into.weight += from.weight;
  for (std::size_t i = 0; i < into.sums.size(); ++i) into.sums[i] += from.sums[i];
}

Value mean_value(double weight, const std::vector<double>& sums) {
  if (weight == 0) return Value();
  Value::Array mean;
  mean.reserve(sums.size());
  for (double x : sums) mean.emplace_back(x / weight);
  return Value(std::move(mean));
}

class SessionMean final : public AggregatorOf<Sessions> {
 public:
  explicit SessionMean(const AggregatorContext& c)
      : value_(c.require_value()), gap_(c.param_duration("gap")) {
    c.forbid_group_by();
    if (value_.kind() != ValueRef::Kind::kFeature)
      c.reject("value", "session_mean needs a vector feature");
  }

  void fold(Sessions& s, const MaterializedEvent& e, double weight) const override {
    std::span<const float> v = value_.vector(e);
    if (v.empty()) return;
    std::vector<Session>& list = s.list;
    // Vectors of another length than the state's cannot be averaged in; they are skipped, as
    // by the built-in `mean`.
    if (!list.empty() && v.size() != list.front().sums.size()) return;
    const TimeMs ts = e.event.ts;
    // The sessions before `it` end more than `gap` before ts, so the event can join only `it`.
    auto it = std::lower_bound(list.begin(), list.end(), ts,
                               [&](const Session& x, TimeMs t) { return x.end < t - gap_; });
    if (it == list.end() || it->start - ts > gap_) {
      it = list.insert(it, Session{ts, ts, 0, 0, std::vector<double>(v.size())});
    }
    it->start = std::min(it->start, ts);
    it->end = std::max(it->end, ts);
    it->events += 1;
    it->weight += weight;
    for (std::size_t i = 0; i < v.size(); ++i) it->sums[i] += weight * static_cast<double>(v[i]);
    // A later end may bring the next session within `gap`; the one after that was more than
    // `gap` past the next one's end already.
    auto next = it + 1;
    if (next != list.end() && next->start - it->end <= gap_) {
      add_into(*it, *next);
      list.erase(next);
    }
  }

  void merge(Sessions& into, const Sessions& from) const override {
    if (from.list.empty()) return;
    std::size_t dim =
        into.list.empty() ? from.list.front().sums.size() : into.list.front().sums.size();
    std::vector<Session> all;
    all.reserve(into.list.size() + from.list.size());
    std::merge(std::make_move_iterator(into.list.begin()), std::make_move_iterator(into.list.end()),
               from.list.begin(), from.list.end(), std::back_inserter(all),
               [](const Session& a, const Session& b) { return a.start < b.start; });
    into.list.clear();
    for (Session& next : all) {
      if (next.sums.size() != dim) continue;
      if (!into.list.empty() && next.start - into.list.back().end <= gap_) {
        add_into(into.list.back(), next);
      } else {
        into.list.push_back(std::move(next));
      }
    }
  }

  Value result(const Sessions& s, TimeMs as_of) const override {
    if (s.list.empty())
      return Value(Value::Object{{"mean", Value()}, {"events", Value(0)}, {"session", Value()}});
    Session total = s.list.front();
    for (std::size_t i = 1; i < s.list.size(); ++i) add_into(total, s.list[i]);
    const Session& newest = s.list.back();
    Value session(Value::Object{{"mean", mean_value(newest.weight, newest.sums)},
                                {"start", Value(newest.start)},
                                {"end", Value(newest.end)},
                                {"events", Value(newest.events)},
                                {"current", Value(as_of - newest.end <= gap_)}});
    return Value(Value::Object{{"mean", mean_value(total.weight, total.sums)},
                               {"events", Value(total.events)},
                               {"session", std::move(session)}});
  }

  void encode(const Sessions& s, ByteWriter& out) const override {
    out.varint(s.list.size());
    if (s.list.empty()) return;
    out.varint(s.list.front().sums.size());
    for (const Session& session : s.list) {
      out.svarint(session.start);
      out.varint(static_cast<std::uint64_t>(session.end - session.start));
      out.varint(session.events);
      out.f64(session.weight);
      for (double x : session.sums) out.f64(x);
    }
  }

  Sessions decode(ByteReader& in) const override {
    Sessions s;
    std::uint64_t n = in.count(11);
    if (n == 0) return s;
    std::uint64_t dim = in.varint();
    if (dim > in.remaining() / 8) throw CorruptionError("session_mean: vector past end of record");
    s.list.resize(n);
    for (Session& session : s.list) {
      session.start = in.svarint();
      session.end = session.start + static_cast<TimeMs>(in.varint());
      session.events = in.varint();
      session.weight = in.f64();
      session.sums.resize(dim);
      for (double& x : session.sums) x = in.f64();
    }
    return s;
  }

 private:
  ValueRef value_;
  TimeMs gap_;
};

// `session_profile`: the compact feature of a session_mean signal, reading all its windows:
// {"session": the current session's mean (null when the newest session is over), and per
// window as written its mean}, e.g. {"session": [...], "1d": [...], "90d": [...]}. The
// session is taken from the longest window, where the fewest sessions are cut by its start.
class SessionProfile final : public View {
 public:
  explicit SessionProfile(const ViewContext& c) {
    if (c.signal.config().aggregator != "session_mean")
      c.reject("signal", "session_profile needs a session_mean signal");
    TimeMs longest = -1;
    for (const WindowConfig& w : c.signal.windows()) {
      windows_.push_back(w.text);
      if (w.length > longest) {
        longest = w.length;
        longest_ = w.text;
      }
    }
  }

  Input input() const override { return Input::kAllWindows; }

  Value transform(const Value& input) const override {
    const Value* longest = windows_.empty() ? &input : input.find(longest_);
    const Value* session = longest ? longest->find("session") : nullptr;
    const Value* current = session ? session->find("current") : nullptr;
    Value::Object out;
    out.emplace_back("session", current && *current == Value(true) ? mean_of(session) : Value());
    if (windows_.empty()) out.emplace_back("all", mean_of(&input));
    for (const std::string& w : windows_) out.emplace_back(w, mean_of(input.find(w)));
    return Value(std::move(out));
  }

 private:
  static Value mean_of(const Value* result) {
    const Value* mean = result ? result->find("mean") : nullptr;
    return mean ? *mean : Value();
  }

  std::vector<std::string> windows_;
  std::string longest_;
};

}  // namespace

SIGNALBOX_REGISTER_AGGREGATOR(session_mean, SessionMean,
                              {{"gap", "the longest pause within a session (a duration)"}});
SIGNALBOX_REGISTER_VIEW(session_profile, SessionProfile, {});
