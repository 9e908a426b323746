#include "runtime/base/metrics.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace cms::metrics {

histogram::histogram(std::vector<double> upper_bounds)
  : bounds_(std::move(upper_bounds)),
    buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) noexcept {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0)
    sum_micro_.fetch_add(static_cast<std::uint64_t>(v * 1e6), std::memory_order_relaxed);
}

std::vector<std::uint64_t> histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double histogram::sum() const noexcept {
  return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
}

double histogram::quantile(double q) const {
  auto counts = bucket_counts();
  std::uint64_t total = 0;
  for (auto c : counts)
    total += c;
  if (total == 0)
    return 0;
  double rank = q * static_cast<double>(total);
  double seen = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (seen + static_cast<double>(counts[i]) >= rank && counts[i] > 0) {
      double lo = i == 0 ? 0 : bounds_[i - 1];
      double hi = i < bounds_.size() ? bounds_[i] : lo;
      double frac = (rank - seen) / static_cast<double>(counts[i]);
      return lo + (hi - lo) * frac;
    }
    seen += static_cast<double>(counts[i]);
  }
  return bounds_.empty() ? 0 : bounds_.back();
}

registry::family& registry::family_for(const std::string& name, const std::string& help,
                                       kind type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.help = help;
    it->second.type = type;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " registered with two types");
  }
  return it->second;
}

counter& registry::get_counter(const std::string& name, const std::string& help,
                               const label_set& labels) {
  std::lock_guard guard{mutex_};
  auto& slot = family_for(name, help, kind::counter).counters[labels];
  if (!slot)
    slot = std::make_unique<counter>();
  return *slot;
}

gauge& registry::get_gauge(const std::string& name, const std::string& help,
                           const label_set& labels) {
  std::lock_guard guard{mutex_};
  auto& slot = family_for(name, help, kind::gauge).gauges[labels];
  if (!slot)
    slot = std::make_unique<gauge>();
  return *slot;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help,
                                   std::vector<double> bounds, const label_set& labels) {
  std::lock_guard guard{mutex_};
  auto& slot = family_for(name, help, kind::histogram).histograms[labels];
  if (!slot)
    slot = std::make_unique<histogram>(std::move(bounds));
  return *slot;
}

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string render_labels(const label_set& labels, const std::string& extra_name = {},
                          const std::string& extra_value = {}) {
  if (labels.empty() && extra_name.empty())
    return {};
  std::string out = "{";
  bool first = true;
  for (auto& [k, v] : labels) {
    if (!first)
      out += ',';
    first = false;
    out += k + "=\"" + escape_label(v) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first)
      out += ',';
    out += extra_name + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

std::string number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream os;
  os.precision(17);
  os << v;
  return os.str();
}

} // namespace

std::string registry::render_prometheus() const {
  // The call path takes this mutex whenever it looks a metric up, and rendering runs on the
  // lower-priority management thread: hold it only to note where each series lives (map nodes and
  // metric objects never move or go away), then format without it. Formatting thousands of
  // per-peer series under the lock stalled every thread of the node (docs/performance.md, soak).
  struct series {
    const std::string* name;
    const family* fam;
    const label_set* labels;
    const void* metric;
  };
  std::vector<series> rows;
  {
    std::lock_guard guard{mutex_};
    for (auto& [name, fam] : families_) {
      rows.push_back({&name, &fam, nullptr, nullptr}); // the family's HELP/TYPE header
      for (auto& [labels, c] : fam.counters)
        rows.push_back({&name, &fam, &labels, c.get()});
      for (auto& [labels, g] : fam.gauges)
        rows.push_back({&name, &fam, &labels, g.get()});
      for (auto& [labels, h] : fam.histograms)
        rows.push_back({&name, &fam, &labels, h.get()});
    }
  }
  std::string out;
  for (auto& r : rows) {
    const std::string& name = *r.name;
    if (!r.metric) {
      static const char* const type_names[] = {"counter", "gauge", "histogram"};
      out += "# HELP " + name + " " + r.fam->help + "\n";
      out += "# TYPE " + name + " " + type_names[static_cast<int>(r.fam->type)] + "\n";
      continue;
    }
    switch (r.fam->type) {
    case kind::counter:
      out += name + render_labels(*r.labels) + " " +
             std::to_string(static_cast<const counter*>(r.metric)->value()) + "\n";
      break;
    case kind::gauge:
      out += name + render_labels(*r.labels) + " " +
             std::to_string(static_cast<const gauge*>(r.metric)->value()) + "\n";
      break;
    case kind::histogram: {
      auto h = static_cast<const histogram*>(r.metric);
      auto counts = h->bucket_counts();
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        auto le = i < h->bounds().size() ? number(h->bounds()[i]) : std::string{"+Inf"};
        out += name + "_bucket" + render_labels(*r.labels, "le", le) + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_sum" + render_labels(*r.labels) + " " + number(h->sum()) + "\n";
      out += name + "_count" + render_labels(*r.labels) + " " + std::to_string(h->count()) + "\n";
      break;
    }
    }
  }
  return out;
}

std::vector<sample> registry::snapshot() const {
  std::lock_guard guard{mutex_};
  std::vector<sample> out;
  for (auto& [name, fam] : families_) {
    for (auto& [labels, c] : fam.counters)
      out.push_back({name, labels, kind::counter, static_cast<double>(c->value())});
    for (auto& [labels, g] : fam.gauges)
      out.push_back({name, labels, kind::gauge, static_cast<double>(g->value())});
    for (auto& [labels, h] : fam.histograms)
      out.push_back({name, labels, kind::histogram, static_cast<double>(h->count())});
  }
  return out;
}

double registry::value(const std::string& name, const label_set& labels) const {
  std::lock_guard guard{mutex_};
  auto it = families_.find(name);
  if (it == families_.end())
    return 0;
  if (auto c = it->second.counters.find(labels); c != it->second.counters.end())
    return static_cast<double>(c->second->value());
  if (auto g = it->second.gauges.find(labels); g != it->second.gauges.end())
    return static_cast<double>(g->second->value());
  return 0;
}

} // namespace cms::metrics
