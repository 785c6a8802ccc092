#pragma once
// Sends `POST /api/automation/v1/exec` requests one after another over one kept-alive
// connection, the way a CI job talks to the controller. Every answer is checked, so that a run of
// failures can never pass for a fast run.
#include "common/http_client.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tether::bench {

struct ExecTarget {
  std::string url;  // http(s)://host:port of the controller
  // One or more keys, used in turn: a key may make at most 1,000 requests a minute (seed 003's
  // rate-limit ceiling), and a benchmark makes more than that.
  std::vector<std::string> rca_keys;
  std::string server_id;
  std::string ca_file;  // empty: the system's trust store
};

class ExecClient {
 public:
  explicit ExecClient(const ExecTarget& target);

  // Runs `command` on the target server and waits for its result. Throws std::runtime_error
  // unless the controller answered 200 with a completed command that exited 0.
  void run(std::string_view command);

 private:
  http::Client client_;
  std::vector<http::Headers> headers_per_key_;
  std::size_t next_key_ = 0;
  std::string server_id_;
};

}  // namespace tether::bench
