#include "ppd/sim/shared_link.h"

#include <algorithm>
#include <cmath>

#include "ppd/common/check.h"

namespace ppd::sim {

Status validate_link_options(const LinkOptions& o) {
  if (!(o.bytes_per_s > 0) || !std::isfinite(o.bytes_per_s)) {
    return invalid_argument("link.bytes_per_s: must be > 0; got {}", o.bytes_per_s);
  }
  if (o.latency_ns < 0) return invalid_argument("link.latency_ns: must be >= 0; got {}", o.latency_ns);
  return Status::Ok();
}

SharedLink::SharedLink(LinkOptions options) : options_(options) {}

int64_t SharedLink::flow_end_ns(double remaining_bytes) const {
  const double share = options_.bytes_per_s / static_cast<double>(flows_.size());
  return now_ns_ + static_cast<int64_t>(std::ceil(remaining_bytes / share * 1e9));
}

void SharedLink::drain_until(int64_t until_ns) {
  while (!flows_.empty()) {
    const auto smallest = std::min_element(flows_.begin(), flows_.end(), [](const Flow& a, const Flow& b) {
      return a.remaining_bytes < b.remaining_bytes || (a.remaining_bytes == b.remaining_bytes && a.id < b.id);
    });
    const int64_t end_ns = flow_end_ns(smallest->remaining_bytes);
    const int64_t step_to = std::min(end_ns, until_ns);
    const double share = options_.bytes_per_s / static_cast<double>(flows_.size());
    const double drained = share * static_cast<double>(step_to - now_ns_) / 1e9;
    for (Flow& f : flows_) f.remaining_bytes = std::max(0.0, f.remaining_bytes - drained);
    now_ns_ = step_to;
    if (end_ns > until_ns) return;
    // Every flow as small as the smallest ends now, in id order.
    std::vector<Flow> done;
    std::erase_if(flows_, [&](const Flow& f) {
      if (f.remaining_bytes > 1e-6) return false;
      done.push_back(f);
      return true;
    });
    if (done.empty()) {  // rounding left a sliver: finish the smallest
      done.push_back(*smallest);
      flows_.erase(smallest);
    }
    std::sort(done.begin(), done.end(), [](const Flow& a, const Flow& b) { return a.id < b.id; });
    for (const Flow& f : done) delivering_.push_back({f.id, now_ns_ + options_.latency_ns});
  }
  now_ns_ = std::max(now_ns_, until_ns);
}

uint64_t SharedLink::start(int64_t now_ns, int64_t bytes) {
  PPD_CHECK(now_ns >= now_ns_ && bytes >= 0);
  drain_until(now_ns);
  const uint64_t id = next_id_++;
  if (bytes == 0) {
    delivering_.push_back({id, now_ns + options_.latency_ns});
  } else {
    flows_.push_back({id, static_cast<double>(bytes)});
  }
  return id;
}

std::vector<uint64_t> SharedLink::advance(int64_t now_ns) {
  PPD_CHECK(now_ns >= now_ns_);
  drain_until(now_ns);
  std::stable_sort(delivering_.begin(), delivering_.end(), [](const Delivery& a, const Delivery& b) {
    return a.time_ns < b.time_ns || (a.time_ns == b.time_ns && a.id < b.id);
  });
  std::vector<uint64_t> delivered;
  while (!delivering_.empty() && delivering_.front().time_ns <= now_ns) {
    delivered.push_back(delivering_.front().id);
    delivering_.erase(delivering_.begin());
  }
  return delivered;
}

std::optional<int64_t> SharedLink::next_delivery_ns() const {
  std::optional<int64_t> next;
  for (const Delivery& d : delivering_) next = std::min(next.value_or(d.time_ns), d.time_ns);
  if (!flows_.empty()) {
    double smallest = flows_.front().remaining_bytes;
    for (const Flow& f : flows_) smallest = std::min(smallest, f.remaining_bytes);
    const int64_t end = flow_end_ns(smallest) + options_.latency_ns;
    next = std::min(next.value_or(end), end);
  }
  return next;
}

}  // namespace ppd::sim
