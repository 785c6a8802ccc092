#pragma once
// The controller's Prometheus metrics: one Metrics object owns the registry and every family,
// declared once (name, help, kind, label names, buckets) in the table of metrics.cpp. The rest of
// the controller calls its small typed methods; nothing reaches the registry directly, so label
// names cannot drift and every label value comes from a bounded set (route templates, never raw
// paths; operation types and statuses; loop keys).
//
// Counts kept in PostgreSQL (servers and runs by status) are not tracked here as they change: the
// scrape reads them on a database worker through a callback, at most once per `database_max_age`,
// so that scrapes cannot load the database. Values the controller holds in memory (agents
// connected, SSE readers, the database pool's connections in use) are sampled at scrape time.
// Thread-safe: every method may be called from any thread.
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace tether::metrics {

// What the scrape reads from PostgreSQL: status -> how many.
struct DatabaseCounts {
  std::map<std::string, std::int64_t> servers_by_status;
  std::map<std::string, std::int64_t> runs_by_status;
};

// What the scrape samples from memory.
struct Sample {
  std::size_t agents_connected = 0;
  std::size_t sse_readers = 0;
  std::size_t db_pool_size = 0;
  std::size_t db_pool_in_use = 0;
  std::size_t db_pool_queued = 0;
};

class Metrics {
 public:
  explicit Metrics(std::chrono::seconds database_max_age = std::chrono::seconds(5));
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // An operation reached its final status (completed, failed, timeout, canceled); its duration as
  // the agent measured it, when it ran.
  void operation_ended(std::string_view type, std::string_view status, std::optional<std::chrono::milliseconds> duration);
  // An HTTP request answered: the route as registered ("/api/servers/{id}", or "unmatched").
  void http_request(std::string_view method, std::string_view route, unsigned status, double seconds);
  // Output bytes an agent sent (payload of its output frames).
  void output_received(std::size_t bytes);
  // A scheduled job fired this long after its due time.
  void scheduler_lateness(double seconds);
  // An inbound webhook delivery's outcome: fired, no_run, refused, unauthenticated.
  void webhook_delivery(std::string_view outcome);
  // A database task waited this long for a pool connection.
  void db_pool_wait(double seconds);
  // A pass of one of the controller's loops ran (failed: it threw).
  void loop_pass(std::string_view loop, bool failed);

  // At scrape time: the in-memory values.
  void sample(const Sample& sample);
  // At scrape time, on a database worker: `read` is called when the counts are older than the
  // maximum age (`now` from a steady clock); a failing read keeps the previous counts and throws.
  void refresh_database_counts(std::chrono::steady_clock::time_point now, const std::function<DatabaseCounts()>& read);

  // The Prometheus text exposition format (version 0.0.4) of every metric.
  std::string exposition() const;
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

  // The route label of a request no route matched.
  static constexpr std::string_view unmatched_route = "unmatched";

 private:
  struct Families;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  const std::chrono::seconds database_max_age_;
  std::mutex database_mutex_;
  std::optional<std::chrono::steady_clock::time_point> database_read_at_;
  DatabaseCounts database_counts_;
};

}  // namespace tether::metrics
