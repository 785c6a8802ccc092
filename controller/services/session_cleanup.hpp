#pragma once
// The `session-cleanup` loop's pass (every 5 minutes, seed 004): deletes expired login sessions.
// An expired session is refused at once whether or not it has been deleted; this only keeps the
// table small.
#include "controller/automations/loop.hpp"
#include "controller/services/user_service.hpp"

namespace tether::services {

automations::PassResult purge_expired_sessions(pqxx::connection& connection, Users& users);

}  // namespace tether::services
