#include "controller/automations/cadence.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tether::automations {

Cadence::Cadence(boost::asio::io_context& io, store::DbPool& db, std::shared_ptr<LoopRunner> runner,
                 std::chrono::milliseconds period, std::chrono::milliseconds first_in)
    : first_in_(first_in) {
  auto pass = [runner, period](pqxx::connection& connection) {
    PgLoopBackend backend(connection, runner->instance());
    const auto result = runner->run(backend, Trigger::cadence);
    auto delay = period;
    if (result.outcome == Outcome::ran) {
      if (result.pass.more) delay = std::chrono::milliseconds(0);
      if (result.pass.next_in) delay = std::min(delay, std::max(*result.pass.next_in, std::chrono::milliseconds(0)));
    }
    return delay;
  };
  auto on_failure = [key = runner->spec().key](const std::string& error) {
    spdlog::warn("event=automation_pass_failed key={} error=\"{}\"", key, error);
  };
  pacer_ = std::make_shared<Pacer>(io, db, std::move(pass), std::move(on_failure), period);
}

void Cadence::start() { pacer_->start(first_in_); }
void Cadence::stop() { pacer_->stop(); }
void Cadence::wake() { pacer_->wake(); }

}  // namespace tether::automations
