#pragma once
// Counters and gauges shared by every component of the node. Lock-free to update (hot paths only
// touch an atomic); registration and rendering take a mutex. Rendered as Prometheus text exposition
// (GET /metrics), read by the SNMP subagent and the JSON status.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cms::metrics {

using label_set = std::vector<std::pair<std::string, std::string>>;

class counter {
public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::uint64_t> value_{0};
};

class gauge {
public:
  void set(std::int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  std::int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<std::int64_t> value_{0};
};

/// A fixed-bucket histogram (Prometheus semantics: cumulative buckets, sum, count).
class histogram {
public:
  explicit histogram(std::vector<double> upper_bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  std::vector<std::uint64_t> bucket_counts() const; ///< non-cumulative, last is +Inf
  double sum() const noexcept;
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  /// Approximate quantile (0..1) by linear interpolation inside the bucket.
  double quantile(double q) const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_micro_{0}; ///< sum in millionths, to stay lock-free
};

enum class kind { counter, gauge, histogram };

struct sample {
  std::string name;
  label_set labels;
  kind type;
  double value; ///< counters and gauges; histograms report their count here
};

class registry {
public:
  /// Returns the metric with this name and labels, creating it on first use. The reference stays
  /// valid for the registry's lifetime. Names follow Prometheus rules (cms_ prefix by convention).
  counter& get_counter(const std::string& name, const std::string& help,
                       const label_set& labels = {});
  gauge& get_gauge(const std::string& name, const std::string& help, const label_set& labels = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           std::vector<double> bounds, const label_set& labels = {});

  /// Prometheus text exposition format 0.0.4.
  std::string render_prometheus() const;
  /// Flat list of counters and gauges, for JSON status and SNMP.
  std::vector<sample> snapshot() const;
  /// Current value of a counter or gauge; 0 when absent.
  double value(const std::string& name, const label_set& labels = {}) const;

private:
  struct family {
    std::string help;
    kind type;
    std::map<label_set, std::unique_ptr<counter>> counters;
    std::map<label_set, std::unique_ptr<gauge>> gauges;
    std::map<label_set, std::unique_ptr<histogram>> histograms;
  };
  family& family_for(const std::string& name, const std::string& help, kind type);
  mutable std::mutex mutex_;
  std::map<std::string, family> families_;
};

} // namespace cms::metrics
