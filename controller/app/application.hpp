#pragma once
#include "controller/app/app_context.hpp"

namespace tether::app {

// Applies migrations, then serves HTTP(S) and agent sockets until SIGINT or SIGTERM.
// Returns the process exit code.
int serve(const ControllerSettings& settings);

// Connects to PostgreSQL (retrying for up to `patience` while it starts) and applies migrations.
void prepare_database(const std::string& database_url, std::chrono::seconds patience);

}  // namespace tether::app
