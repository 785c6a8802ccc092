#pragma once
// The `agent-session-reconciliation` loop's pass (manual only): this controller's agent_sessions
// rows against the sockets it really holds. Rows of sockets gone are dropped (except rows younger
// than 5 s: a socket may be connecting right now); each held socket's row is claimed again (it may
// have been dropped, or taken over by a replica that lost it since).
#include "controller/automations/loop.hpp"
#include "controller/dispatch/dispatcher.hpp"

namespace tether::automations {

PassResult reconcile_agent_sessions(pqxx::connection& connection, dispatch::Dispatcher& dispatcher,
                                    const std::string& instance);

}  // namespace tether::automations
