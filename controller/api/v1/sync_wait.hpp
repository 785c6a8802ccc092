#pragma once
// Holding a v1 request open until its operation ends, or until the wait runs out and the answer
// is {"operation_id", "status": "running"}. Whichever comes first answers; the other is dropped.
#include "controller/app/app_context.hpp"
#include "controller/http/types.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

namespace tether::api::v1 {

class SyncWait : public std::enable_shared_from_this<SyncWait> {
 public:
  // Registers for the operation's end at once, before the operation exists, so that a result can
  // never arrive unobserved.
  static std::shared_ptr<SyncWait> begin(app::AppContext& app, http::Responder responder, std::string operation_id);

  // After the operation is stored and sent: answer "running" if it has not ended within `seconds`.
  void arm(int seconds);
  // The operation was never created: stop waiting (the caller answers the error).
  void abandon();

 private:
  SyncWait(app::AppContext& app, http::Responder responder, std::string operation_id);

  app::AppContext& app_;
  http::Responder responder_;
  std::string operation_id_;
  std::uint64_t waiter_token_ = 0;
  boost::asio::steady_timer timer_;
};

}  // namespace tether::api::v1
