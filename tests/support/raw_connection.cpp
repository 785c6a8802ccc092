#include "tests/support/raw_connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/algorithm/string/predicate.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tether::testing {

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error(std::string("connect to 127.0.0.1: ") + std::strerror(error));
  }
}

RawConnection::~RawConnection() { close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(other.fd_), pending_(std::move(other.pending_)), closed_(other.closed_) {
  other.fd_ = -1;
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

long RawConnection::read_some(std::chrono::steady_clock::time_point deadline) {
  if (closed_) return 0;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd waiting{fd_, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -1;
    char buffer[16 * 1024];
    const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {  // EOF, or a reset (ECONNRESET): either way the peer is gone
      closed_ = true;
      return 0;
    }
    pending_.append(buffer, static_cast<std::size_t>(got));
    return got;
  }
}

RawConnection::Received RawConnection::read_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  long got = 1;
  while (got > 0) got = read_some(deadline);
  Received out{std::move(pending_), got == 0};
  pending_.clear();
  return out;
}

std::optional<std::string> RawConnection::read_response(std::chrono::milliseconds timeout, bool head_only) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t head_end;
  while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (read_some(deadline) <= 0) return std::nullopt;
  }
  head_end += 4;
  std::size_t length = 0;
  if (!head_only) {
    if (auto value = header_of(std::string_view(pending_).substr(0, head_end), "Content-Length")) {
      length = std::stoul(*value);
    }
  }
  while (pending_.size() < head_end + length) {
    if (read_some(deadline) <= 0) return std::nullopt;
  }
  std::string response = pending_.substr(0, head_end + length);
  pending_.erase(0, head_end + length);
  return response;
}

int status_of(std::string_view response) {
  if (response.size() < 12 || response.substr(0, 5) != "HTTP/") return 0;
  const auto space = response.find(' ');
  if (space == std::string_view::npos || space + 4 > response.size()) return 0;
  try {
    return std::stoi(std::string(response.substr(space + 1, 3)));
  } catch (const std::exception&) {
    return 0;
  }
}

std::optional<std::string> header_of(std::string_view response, std::string_view name) {
  const auto head = response.substr(0, response.find("\r\n\r\n"));
  std::size_t start = head.find("\r\n");
  while (start != std::string_view::npos) {
    start += 2;
    const auto end = std::min(head.find("\r\n", start), head.size());
    const auto line = head.substr(start, end - start);
    const auto colon = line.find(':');
    if (colon != std::string_view::npos && boost::algorithm::iequals(line.substr(0, colon), name)) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return std::string(value);
    }
    if (end >= head.size()) break;
    start = end;
  }
  return std::nullopt;
}

std::string body_of(std::string_view response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string() : std::string(response.substr(end + 4));
}

}  // namespace tether::testing
