#pragma once
// An OperationTable on a real io_context and a real journal in a temporary directory, with the
// controller side replaced by a recorder of every message the table sends.
#include "agent/operation_table.hpp"
#include "proto/output_frame.hpp"
#include "test_cgroups.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace tether::agent::testing {
namespace fs = std::filesystem;
namespace proto = tether::proto;
using namespace std::chrono_literals;

inline const std::string op_id = "55555555-5555-4555-8555-555555555555";
inline const std::string boot_id = "test-boot-0001";

// The controller side as the table sees it: every message it would send, in order.
struct RecordingOutbound final : Outbound {
  bool is_ready = true;
  std::vector<proto::AgentMessage> messages;
  std::vector<std::string> frames;
  std::vector<std::string> kinds;  // "accepted", "started", "output", "finished", ...
  std::function<void(const proto::AgentMessage&)> on_message;

  bool ready() const override { return is_ready; }
  void send_text(std::string text) override {
    auto message = proto::decode_agent_message(text);
    REQUIRE(message.has_value());
    kinds.push_back(std::visit(
        [](const auto& m) -> std::string {
          using T = std::decay_t<decltype(m)>;
          if constexpr (std::is_same_v<T, proto::Accepted>) return "accepted";
          if constexpr (std::is_same_v<T, proto::Started>) return "started";
          if constexpr (std::is_same_v<T, proto::Finished>) return "finished";
          if constexpr (std::is_same_v<T, proto::Rejected>) return "rejected";
          return "other";
        },
        *message));
    if (on_message) on_message(*message);
    messages.push_back(std::move(*message));
  }
  void send_binary(std::string frame) override {
    kinds.push_back("output");
    frames.push_back(std::move(frame));
  }

  template <class T>
  std::vector<T> all() const {
    std::vector<T> out;
    for (const auto& m : messages) {
      if (auto* typed = std::get_if<T>(&m)) out.push_back(*typed);
    }
    return out;
  }
  std::optional<proto::Finished> finished() const {
    auto list = all<proto::Finished>();
    if (list.empty()) return std::nullopt;
    return list.back();
  }
  std::vector<std::uint64_t> frame_seqs() const {
    std::vector<std::uint64_t> out;
    for (const auto& f : frames) out.push_back(proto::decode_output_frame(f).seq);
    return out;
  }
  std::string payload(proto::Stream stream) const {
    std::string out;
    for (const auto& f : frames) {
      auto view = proto::decode_output_frame(f);
      if (view.stream == stream) out.append(view.payload);
    }
    return out;
  }
};

struct Fixture {
  explicit Fixture(OperationSettings settings = default_settings())
      : journal(dir.path()), table(io.get_executor(), journal, std::move(settings), outbound) {}

  static OperationSettings default_settings() {
    OperationSettings settings;
    settings.kill_grace = 500ms;
    settings.boot_id = boot_id;
    settings.cgroups = test_cgroups();  // as the agent would run here: in cgroups where it can
    return settings;
  }

  // Runs handlers until `done` holds or `bound` passes; returns `done()`.
  template <class Predicate>
  bool run_until(Predicate done, std::chrono::milliseconds bound = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(20ms);
    }
    return done();
  }
  bool run_until_finished(std::chrono::milliseconds bound = 10s) {
    return run_until([&] { return outbound.finished().has_value(); }, bound);
  }

  tether::testing::TempDir dir{"agent-ops"};
  boost::asio::io_context io;
  Journal journal;
  RecordingOutbound outbound;
  OperationTable table;
};

inline proto::Dispatch exec(std::string command, std::map<std::string, std::string> env = {}, int timeout_seconds = 30) {
  proto::Dispatch dispatch;
  dispatch.operation_id = op_id;
  dispatch.command = std::move(command);
  dispatch.env = std::move(env);
  dispatch.timeout_seconds = timeout_seconds;
  return dispatch;
}

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace tether::agent::testing
