// tether-agent: see `tether-agent --help` and proto/PROTOCOL.md.
#include "agent/agent.hpp"
#include "agent/agent_config.hpp"
#include "agent/state_dir_lock.hpp"
#include "common/logging.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <signal.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  using namespace tether;
  agent::CommandLine command_line;
  try {
    command_line = agent::parse_command_line(argc, argv);
  } catch (const std::exception& error) {
    fmt::print(stderr, "tether-agent: {}\nRun 'tether-agent --help' for usage.\n", error.what());
    return 2;
  }
  agent::hide_token(argc, argv);
  if (command_line.show_help) {
    fmt::print("{}", agent::usage_text());
    return 0;
  }
  if (command_line.show_version) {
    fmt::print("tether-agent {}\n", agent::agent_version);
    return 0;
  }

  try {
    logging::init("agent", command_line.config.log_level);
  } catch (const std::exception& error) {
    fmt::print(stderr, "tether-agent: {}\n", error.what());
    return 2;
  }

  // A controller that vanishes mid-write must surface as an error code, not kill the agent.
  ::signal(SIGPIPE, SIG_IGN);

  try {
    const agent::StateDirLock lock(command_line.config.state_dir);
    boost::asio::io_context io(1);
    agent::Agent tether_agent(io, std::move(command_line.config));
    boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
    stop_signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
      if (error) return;
      spdlog::info("event=signal_received signal={}", signal_number);
      tether_agent.stop();
    });
    tether_agent.start();
    io.run();
    spdlog::info("event=agent_stopped");
  } catch (const std::exception& error) {
    spdlog::critical("event=agent_failed error=\"{}\"", error.what());
    spdlog::default_logger()->flush();
    return 1;
  }
  return 0;
}
