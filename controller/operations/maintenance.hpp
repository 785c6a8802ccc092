#pragma once
// Two of the controller's loops (automations::LoopRunner runs them once a second, under their
// advisory locks):
// - `operation-reaper`: the operation lifecycle's sweep: end operations whose deadline passed
//   without an agent (queued too long, lost dispatches, overdue reboots) and send operations queued
//   for agents connected here;
// - `server-health`: servers whose heartbeats stopped are marked unreachable.
// Every step is a conditional UPDATE in PostgreSQL, so each change is made once whoever runs it.
#include "controller/automations/loop.hpp"
#include "controller/operations/lifecycle.hpp"

namespace tether::operations {

automations::PassResult reap_operations(pqxx::connection& connection, Lifecycle& lifecycle, int overdue_grace_seconds);

automations::PassResult mark_silent_servers(pqxx::connection& connection, int unreachable_after_seconds);

}  // namespace tether::operations
