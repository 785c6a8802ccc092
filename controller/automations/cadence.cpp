#include "controller/automations/cadence.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace tether::automations {

Cadence::Cadence(boost::asio::io_context& io, store::DbPool& db, std::shared_ptr<LoopRunner> runner,
                 std::chrono::milliseconds period, std::chrono::milliseconds first_in)
    : db_(db), runner_(std::move(runner)), period_(period), first_in_(first_in), timer_(boost::asio::make_strand(io)) {}

void Cadence::start() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] { self->sleep_for(self->first_in_); });
}

void Cadence::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void Cadence::wake() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    if (self->in_flight_) {
      self->again_ = true;
    } else {
      self->sleep_for(std::chrono::milliseconds(0));
    }
  });
}

void Cadence::sleep_for(std::chrono::milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->in_flight_) self->pass();
  });
}

void Cadence::pass() {
  in_flight_ = true;
  again_ = false;
  auto self = shared_from_this();
  db_.submit(
      [self](pqxx::connection& connection) {
        PgLoopBackend backend(connection, self->runner_->instance());
        const auto result = self->runner_->run(backend, Trigger::cadence);
        auto delay = self->period_;
        if (result.outcome == Outcome::ran) {
          if (result.pass.more) delay = std::chrono::milliseconds(0);
          if (result.pass.next_in) delay = std::min(delay, std::max(*result.pass.next_in, std::chrono::milliseconds(0)));
        }
        boost::asio::post(self->timer_.get_executor(), [self, delay] {
          self->in_flight_ = false;
          self->sleep_for(self->again_ ? std::chrono::milliseconds(0) : delay);
        });
      },
      [self](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          spdlog::warn("event=automation_pass_failed key={} error=\"{}\"", self->runner_->spec().key, e.what());
        }
        boost::asio::post(self->timer_.get_executor(), [self] {
          self->in_flight_ = false;
          self->sleep_for(self->period_);
        });
      });
}

}  // namespace tether::automations
