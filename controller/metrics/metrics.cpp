#include "controller/metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <vector>

namespace tether::metrics {
// Named, not anonymous: Metrics::Families holds Spec pointers, and a member of a class with
// external linkage must not have a type with internal linkage (GCC's -Wsubobject-linkage).
namespace metric_table {

enum class Kind { counter, gauge, histogram };

// Every metric, in the order the table below declares them.
enum Id : std::size_t {
  agents_connected,
  servers,
  operations,
  operation_duration,
  http_requests,
  http_request_duration,
  sse_readers,
  output_bytes,
  scheduler_lateness_seconds,
  runs,
  webhook_deliveries,
  db_pool_size,
  db_pool_in_use,
  db_pool_queued,
  db_pool_wait_seconds,
  loop_passes,
  loop_errors,
  metric_count,
};

struct Spec {
  Id id;
  const char* name;
  const char* help;
  Kind kind;
  std::vector<std::string> labels;
  std::vector<double> buckets;  // histograms only
};

// The one declaration of every metric.
const std::vector<Spec>& table() {
  static const std::vector<Spec> specs{
      {agents_connected, "tether_agents_connected", "Agents holding a WebSocket to this controller.", Kind::gauge, {}, {}},
      {servers, "tether_servers", "Servers by status (from the database, cached for a few seconds).", Kind::gauge,
       {"status"}, {}},
      {operations, "tether_operations_total", "Operations that reached a final status, by type and status.",
       Kind::counter, {"type", "status"}, {}},
      {operation_duration, "tether_operation_duration_seconds",
       "Duration of ended operations as their agent measured it, by type.", Kind::histogram, {"type"},
       {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600}},
      {http_requests, "tether_http_requests_total",
       "HTTP requests answered, by method, route template (\"unmatched\" when no route matched) and status.",
       Kind::counter, {"method", "route", "status"}, {}},
      {http_request_duration, "tether_http_request_duration_seconds",
       "Time from routing an HTTP request to handing its answer to the connection, by method and route template.",
       Kind::histogram, {"method", "route"},
       {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}},
      {sse_readers, "tether_sse_readers", "Open Server-Sent Events streams (live output and run events).",
       Kind::gauge, {}, {}},
      {output_bytes, "tether_output_bytes_received_total", "Bytes of command output received from agents.",
       Kind::counter, {}, {}},
      {scheduler_lateness_seconds, "tether_scheduler_lateness_seconds",
       "How long after its due time a scheduled job fired.", Kind::histogram, {},
       {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300}},
      {runs, "tether_runs", "Runs by status (from the database, cached for a few seconds).", Kind::gauge, {"status"},
       {}},
      {webhook_deliveries, "tether_webhook_deliveries_total",
       "Inbound webhook deliveries by outcome (fired, no_run, refused, unauthenticated).", Kind::counter,
       {"outcome"}, {}},
      {db_pool_size, "tether_db_pool_connections", "Connections (worker threads) of the database pool.", Kind::gauge,
       {}, {}},
      {db_pool_in_use, "tether_db_pool_connections_in_use", "Database pool connections running a task.", Kind::gauge,
       {}, {}},
      {db_pool_queued, "tether_db_pool_queued_tasks", "Database tasks waiting for a pool connection.", Kind::gauge, {},
       {}},
      {db_pool_wait_seconds, "tether_db_pool_wait_seconds", "How long database tasks waited for a pool connection.",
       Kind::histogram, {}, {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 5}},
      {loop_passes, "tether_loop_passes_total", "Passes of the controller's loops that ran here, by loop.",
       Kind::counter, {"loop"}, {}},
      {loop_errors, "tether_loop_errors_total", "Passes of the controller's loops that failed, by loop.",
       Kind::counter, {"loop"}, {}},
  };
  return specs;
}

}  // namespace metric_table

using namespace metric_table;

struct Metrics::Families {
  std::array<prometheus::Family<prometheus::Counter>*, metric_count> counters{};
  std::array<prometheus::Family<prometheus::Gauge>*, metric_count> gauges{};
  std::array<prometheus::Family<prometheus::Histogram>*, metric_count> histograms{};
  std::array<const Spec*, metric_count> specs{};
  // Statuses seen in the database counts, set to 0 when they are no longer there.
  std::set<std::string> server_statuses, run_statuses;

  prometheus::Labels labels(Id id, std::initializer_list<std::string_view> values) const {
    const auto& names = specs[id]->labels;
    if (names.size() != values.size()) throw std::logic_error(std::string("label count of ") + specs[id]->name);
    prometheus::Labels out;
    auto value = values.begin();
    for (const auto& name : names) out.emplace(name, std::string(*value++));
    return out;
  }
  prometheus::Counter& counter(Id id, std::initializer_list<std::string_view> values = {}) {
    return counters[id]->Add(labels(id, values));
  }
  prometheus::Gauge& gauge(Id id, std::initializer_list<std::string_view> values = {}) {
    return gauges[id]->Add(labels(id, values));
  }
  prometheus::Histogram& histogram(Id id, std::initializer_list<std::string_view> values = {}) {
    return histograms[id]->Add(labels(id, values), specs[id]->buckets);
  }
};

Metrics::Metrics(std::chrono::seconds database_max_age)
    : registry_(std::make_shared<prometheus::Registry>()),
      families_(std::make_unique<Families>()),
      database_max_age_(database_max_age) {
  for (const auto& spec : table()) {
    families_->specs[spec.id] = &spec;
    switch (spec.kind) {
      case Kind::counter:
        families_->counters[spec.id] = &prometheus::BuildCounter().Name(spec.name).Help(spec.help).Register(*registry_);
        break;
      case Kind::gauge:
        families_->gauges[spec.id] = &prometheus::BuildGauge().Name(spec.name).Help(spec.help).Register(*registry_);
        break;
      case Kind::histogram:
        families_->histograms[spec.id] =
            &prometheus::BuildHistogram().Name(spec.name).Help(spec.help).Register(*registry_);
        break;
    }
  }
  // Metrics without labels exist from the start, at 0.
  for (const auto& spec : table()) {
    if (!spec.labels.empty()) continue;
    if (spec.kind == Kind::counter) families_->counter(spec.id);
    if (spec.kind == Kind::gauge) families_->gauge(spec.id);
    if (spec.kind == Kind::histogram) families_->histogram(spec.id);
  }
}

Metrics::~Metrics() = default;

void Metrics::operation_ended(std::string_view type, std::string_view status,
                              std::optional<std::chrono::milliseconds> duration) {
  families_->counter(operations, {type, status}).Increment();
  if (duration) {
    families_->histogram(operation_duration, {type}).Observe(std::chrono::duration<double>(*duration).count());
  }
}

void Metrics::http_request(std::string_view method, std::string_view route, unsigned status, double seconds) {
  families_->counter(http_requests, {method, route, std::to_string(status)}).Increment();
  families_->histogram(http_request_duration, {method, route}).Observe(seconds);
}

void Metrics::output_received(std::size_t bytes) {
  families_->counter(output_bytes).Increment(static_cast<double>(bytes));
}

void Metrics::scheduler_lateness(double seconds) { families_->histogram(scheduler_lateness_seconds).Observe(seconds); }

void Metrics::webhook_delivery(std::string_view outcome) {
  families_->counter(webhook_deliveries, {outcome}).Increment();
}

void Metrics::db_pool_wait(double seconds) { families_->histogram(db_pool_wait_seconds).Observe(seconds); }

void Metrics::loop_pass(std::string_view loop, bool failed) {
  families_->counter(loop_passes, {loop}).Increment();
  // Both series exist once a loop has run, so that rate() of errors starts from 0.
  auto& errors = families_->counter(loop_errors, {loop});
  if (failed) errors.Increment();
}

void Metrics::sample(const Sample& sample) {
  families_->gauge(agents_connected).Set(static_cast<double>(sample.agents_connected));
  families_->gauge(sse_readers).Set(static_cast<double>(sample.sse_readers));
  families_->gauge(db_pool_size).Set(static_cast<double>(sample.db_pool_size));
  families_->gauge(db_pool_in_use).Set(static_cast<double>(sample.db_pool_in_use));
  families_->gauge(db_pool_queued).Set(static_cast<double>(sample.db_pool_queued));
}

void Metrics::refresh_database_counts(std::chrono::steady_clock::time_point now,
                                      const std::function<DatabaseCounts()>& read) {
  std::lock_guard lock(database_mutex_);
  if (database_read_at_ && now - *database_read_at_ < database_max_age_) return;
  database_counts_ = read();
  database_read_at_ = now;
  const auto publish = [this](Id id, const std::map<std::string, std::int64_t>& counts, std::set<std::string>& seen) {
    for (const auto& status : seen) {
      if (!counts.count(status)) families_->gauge(id, {status}).Set(0);
    }
    for (const auto& [status, count] : counts) {
      seen.insert(status);
      families_->gauge(id, {status}).Set(static_cast<double>(count));
    }
  };
  publish(servers, database_counts_.servers_by_status, families_->server_statuses);
  publish(runs, database_counts_.runs_by_status, families_->run_statuses);
}

std::string Metrics::exposition() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace tether::metrics
