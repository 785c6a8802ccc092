#include "controller/api/v1/sync_wait.hpp"

#include "controller/api/v1/operation_view.hpp"
#include "controller/http/responses.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

namespace tether::api::v1 {

SyncWait::SyncWait(app::AppContext& app, http::Responder responder, std::string operation_id)
    : app_(app),
      responder_(std::move(responder)),
      operation_id_(std::move(operation_id)),
      // Its own strand: armed from a database worker, cancelled from whichever thread stores the result.
      timer_(boost::asio::make_strand(app.io)) {}

std::shared_ptr<SyncWait> SyncWait::begin(app::AppContext& app, http::Responder responder, std::string operation_id) {
  auto wait = std::shared_ptr<SyncWait>(new SyncWait(app, std::move(responder), std::move(operation_id)));
  wait->waiter_token_ = app.dispatcher.waiters().add(wait->operation_id_, [wait](const store::OperationRecord& record) {
    wait->responder_.send(http::json_response(http::bhttp::status::ok, exec_answer(record)));
    boost::asio::post(wait->timer_.get_executor(), [wait] { wait->timer_.cancel(); });
  });
  return wait;
}

void SyncWait::arm(int seconds) {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this(), seconds] {
    if (self->responder_.answered()) return;
    self->timer_.expires_after(std::chrono::seconds(seconds));
    self->timer_.async_wait([self](boost::system::error_code ec) {
      if (ec) return;  // cancelled: the result was sent
      self->app_.dispatcher.waiters().remove(self->operation_id_, self->waiter_token_);
      self->responder_.send(http::json_response(
          http::bhttp::status::ok, boost::json::object{{"operation_id", self->operation_id_}, {"status", "running"}}));
    });
  });
}

void SyncWait::abandon() { app_.dispatcher.waiters().remove(operation_id_, waiter_token_); }

}  // namespace tether::api::v1
