#include "bench/bench_api.hpp"

#include "common/config.hpp"

#include "common/crypto.hpp"

#include <fmt/format.h>

#include <atomic>
#include <exception>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace tether::bench {

int run_main(int argc, char** argv, std::string_view name, std::set<std::string> known,
             std::set<std::string> switches, std::string_view usage,
             const std::function<int(const config::Options&)>& run) {
  try {
    const config::Options options(argc, argv, std::move(known), std::move(switches));
    return run(options);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "{}: {}\nusage: {} {}\n", name, e.what(), name, usage);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "{}: {}\n", name, e.what());
    return 1;
  }
}


http::Client make_client(const ApiSettings& api) {
  auto options = http::ClientOptions::from_url(api.url);
  options.ca_file = api.ca_file;
  options.timeout = std::chrono::seconds(120);  // a list of 10,000 servers under load takes a while
  return http::Client(options);
}

boost::json::value call(http::Client& client, const ApiSettings& api, std::string_view method,
                        const std::string& target, const boost::json::value* body, unsigned expected) {
  const auto response =
      client.request(method, target, body ? boost::json::serialize(*body) : std::string(), {http::bearer(api.admin_key)});
  if (response.status != expected) {
    throw std::runtime_error(fmt::format("{} {} answered HTTP {} (expected {}): {}", method, target, response.status,
                                         expected, response.body.substr(0, 500)));
  }
  if (response.body.empty()) return nullptr;
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body, ec);
  if (ec) throw std::runtime_error(fmt::format("{} {} answered something other than JSON: {}", method, target,
                                               response.body.substr(0, 500)));
  return value;
}

void for_each_parallel(std::size_t count, std::size_t parallel,
                       const std::function<void(std::size_t item, std::size_t worker)>& work) {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < std::max<std::size_t>(1, std::min(parallel, count)); ++t) {
    threads.emplace_back([&, t] {
      try {
        for (auto i = next++; i < count && !failed; i = next++) work(i, t);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (first_error) std::rethrow_exception(first_error);
}

void for_each_with_client(const ApiSettings& api, std::size_t count, std::size_t parallel,
                          const std::function<void(std::size_t item, http::Client& client)>& work) {
  std::vector<std::optional<http::Client>> clients(std::max<std::size_t>(parallel, 1));
  for_each_parallel(count, parallel, [&](std::size_t item, std::size_t worker) {
    if (!clients[worker]) clients[worker].emplace(make_client(api));
    work(item, *clients[worker]);
  });
}

std::vector<CreatedServer> create_servers(const ApiSettings& api, std::size_t count, const std::string& prefix,
                                          const std::function<std::vector<std::string>(std::size_t)>& tags_of,
                                          std::size_t parallel, const std::function<void(std::size_t)>& progress) {
  std::vector<CreatedServer> servers(count);
  std::atomic<std::size_t> done{0};
  std::mutex progress_mutex;
  for_each_with_client(api, count, parallel, [&](std::size_t i, http::Client& client) {
    boost::json::array tags;
    for (auto& tag : tags_of(i)) tags.emplace_back(tag);
    const boost::json::value body = boost::json::object{{"name", fmt::format("{}-{:05}", prefix, i)}, {"tags", tags}};
    const auto answer = call(client, api, "POST", "/api/servers", &body, 201).as_object();
    servers[i].id = std::string(answer.at("id").as_string());
    servers[i].agent_token = std::string(answer.at("agent_token").as_string());
    const auto finished = ++done;
    if (progress && (finished % 1000 == 0 || finished == count)) {
      std::lock_guard lock(progress_mutex);
      progress(finished);
    }
  });
  return servers;
}

ServerTally tally_servers(const ApiSettings& api, const std::set<std::string>& ids, const std::string& tag) {
  auto client = make_client(api);
  ServerTally tally;
  // The whole list, a page of 1,000 at a time (GET /api/servers is paged).
  std::string cursor;
  do {
    const auto target = "/api/servers?limit=1000" + (cursor.empty() ? std::string() : "&cursor=" + cursor);
    const auto answer = call(client, api, "GET", target, nullptr, 200).as_object();
    for (const auto& value : answer.at("servers").as_array()) {
      const auto& server = value.as_object();
      const std::string id(server.at("id").as_string());
      if (ids.count(id)) {
        ++tally.listed;
        if (server.at("connected").as_bool()) ++tally.connected;
        if (server.at("status").as_string() == "active") ++tally.active;
      } else if (!tag.empty() && server.at("status").as_string() != "decommissioned") {
        for (const auto& t : server.at("tags").as_array()) {
          if (t.is_string() && t.as_string() == tag) {
            ++tally.others_with_tag;
            break;
          }
        }
      }
    }
    const auto& next = answer.at("next_cursor");
    cursor = next.is_string() ? std::string(next.as_string()) : std::string();
  } while (!cursor.empty());
  return tally;
}

std::string create_exec_key(const ApiSettings& api, const std::string& name, const std::string& server_id) {
  auto client = make_client(api);
  const boost::json::value body = boost::json::object{{"name", name},
                                                      {"allowed_server_ids", boost::json::array{server_id.c_str()}},
                                                      {"allowed_operations", boost::json::array{"exec"}},
                                                      {"expires_at", nullptr}};
  const auto answer = call(client, api, "POST", "/api/automation-keys", &body, 201).as_object();
  return std::string(answer.at("key").as_string());
}

std::optional<double> proc_status_mib(pid_t pid, std::string_view field) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.size() > field.size() && line.compare(0, field.size(), field) == 0 && line[field.size()] == ':') {
      try {
        return std::stod(line.substr(field.size() + 1)) / 1024.0;  // the kernel writes kB
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::string run_tag() { return crypto::hex_encode(crypto::random_bytes(3)); }

}  // namespace tether::bench
