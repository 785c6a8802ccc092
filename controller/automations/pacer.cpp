#include "controller/automations/pacer.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace tether::automations {

Pacer::Pacer(boost::asio::io_context& io, store::DbPool& db, Pass pass, OnFailure on_failure,
             std::chrono::milliseconds retry)
    : db_(db),
      pass_(std::move(pass)),
      on_failure_(std::move(on_failure)),
      retry_(retry),
      timer_(boost::asio::make_strand(io)) {}

void Pacer::start(std::chrono::milliseconds first_in) {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this(), first_in] { self->sleep_for(first_in); });
}

void Pacer::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void Pacer::wake() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    if (self->in_flight_) {
      self->again_ = true;
    } else {
      self->sleep_for(std::chrono::milliseconds(0));
    }
  });
}

void Pacer::sleep_for(std::chrono::milliseconds delay) {
  if (stopped_) return;
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->in_flight_) self->run_pass();
  });
}

void Pacer::run_pass() {
  in_flight_ = true;
  again_ = false;
  auto self = shared_from_this();
  db_.submit([self](pqxx::connection& connection) { self->after_pass(self->pass_(connection)); },
             [self](std::exception_ptr error) {
               try {
                 std::rethrow_exception(error);
               } catch (const std::exception& e) {
                 self->on_failure_(e.what());
               } catch (...) {
                 self->on_failure_("unknown error");
               }
               // A failing pass waits its retry even when woken meanwhile: no tight loop of failures.
               boost::asio::post(self->timer_.get_executor(), [self] {
                 self->in_flight_ = false;
                 self->sleep_for(self->retry_);
               });
             });
}

void Pacer::after_pass(std::chrono::milliseconds delay) {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this(), delay] {
    self->in_flight_ = false;
    self->sleep_for(self->again_ ? std::chrono::milliseconds(0) : delay);
  });
}

}  // namespace tether::automations
