#include "agent/output_spool.hpp"

#include "agent/durable_file.hpp"
#include "proto/output_frame.hpp"

#include <boost/endian/conversion.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace tether::agent {
namespace {

constexpr std::string_view magic = "TSPOOL1\n";
// Compaction copies the unacknowledged tail into a fresh file; doing it only once this much has
// been acknowledged keeps that copy a small fraction of what a fast command writes.
constexpr std::uint64_t compaction_floor = 32 * 1024 * 1024;
constexpr std::size_t length_prefix = 4;

void write_all_at(int fd, const char* data, std::size_t size, std::uint64_t offset, const std::filesystem::path& path) {
  while (size > 0) {
    const auto written = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write spool", path);
    }
    data += written;
    size -= static_cast<std::size_t>(written);
    offset += static_cast<std::uint64_t>(written);
  }
}

// One record (length prefix, then frame) with one pwritev, without first copying them together.
void write_record_at(int fd, std::string_view prefix, std::string_view frame, std::uint64_t offset,
                     const std::filesystem::path& path) {
  iovec parts[2] = {{const_cast<char*>(prefix.data()), prefix.size()}, {const_cast<char*>(frame.data()), frame.size()}};
  const auto written = ::pwritev(fd, parts, 2, static_cast<off_t>(offset));
  if (written == static_cast<ssize_t>(prefix.size() + frame.size())) return;
  if (written < 0 && errno != EINTR) throw_errno("cannot write spool", path);
  // Interrupted or short: finish with plain writes from where it stopped.
  std::string record(prefix);
  record.append(frame);
  const auto done = static_cast<std::size_t>(std::max<ssize_t>(written, 0));
  write_all_at(fd, record.data() + done, record.size() - done, offset + done, path);
}

// Reads exactly `size` bytes or returns false at end of file.
bool read_exact_at(int fd, char* data, std::size_t size, std::uint64_t offset, const std::filesystem::path& path) {
  while (size > 0) {
    const auto got = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read spool", path);
    }
    if (got == 0) return false;
    data += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

}  // namespace

OutputSpool::OutputSpool(std::filesystem::path path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ >= 0) {
    open_existing();
  } else if (errno != ENOENT) {
    throw_errno("cannot open spool", path_);
  }
}

OutputSpool::~OutputSpool() {
  if (fd_ >= 0) ::close(fd_);
}

void OutputSpool::write_header(int fd, std::uint64_t base_seq, std::uint64_t acked_seq) {
  std::array<char, header_size> header{};
  std::memcpy(header.data(), magic.data(), magic.size());
  auto* fields = reinterpret_cast<unsigned char*>(header.data() + magic.size());
  boost::endian::store_big_u64(fields, base_seq);
  boost::endian::store_big_u64(fields + 8, acked_seq);
  write_all_at(fd, header.data(), header.size(), 0, path_);
}

void OutputSpool::reset_to_header() {
  write_header(file(), acked_seq_, acked_seq_);
  if (::ftruncate(file(), static_cast<off_t>(header_size)) != 0) throw_errno("cannot truncate spool", path_);
  end_offset_ = header_size;
}

void OutputSpool::open_existing() {
  std::array<char, header_size> header{};
  if (!read_exact_at(fd_, header.data(), header.size(), 0, path_) ||
      std::string_view(header.data(), magic.size()) != magic) {
    throw std::runtime_error(path_.string() + " is not an output spool");
  }
  const auto* fields = reinterpret_cast<const unsigned char*>(header.data() + magic.size());
  const auto base_seq = boost::endian::load_big_u64(fields);
  const auto acked_seq = std::max(base_seq, boost::endian::load_big_u64(fields + 8));
  last_seq_ = base_seq;

  std::uint64_t offset = header_size;
  std::string frame;
  for (;;) {
    std::array<unsigned char, length_prefix> prefix{};
    if (!read_exact_at(fd_, reinterpret_cast<char*>(prefix.data()), prefix.size(), offset, path_)) break;
    const auto size = boost::endian::load_big_u32(prefix.data());
    if (size < proto::output_header_size || size > proto::output_header_size + proto::max_output_payload) break;
    frame.resize(size);
    if (!read_exact_at(fd_, frame.data(), size, offset + length_prefix, path_)) break;
    std::uint64_t seq = 0;
    try {
      seq = proto::decode_output_frame(frame).seq;
    } catch (const std::invalid_argument&) {
      break;
    }
    if (seq != last_seq_ + 1) break;
    if (seq > acked_seq) {
      entries_.push_back({seq, offset + length_prefix, size});
      unacked_bytes_ += size;
    }
    last_seq_ = seq;
    offset += length_prefix + size;
  }
  acked_seq_ = std::min(acked_seq, last_seq_);
  // Whatever follows the last whole record is a write cut short by a crash.
  if (::ftruncate(fd_, static_cast<off_t>(offset)) != 0) throw_errno("cannot truncate spool", path_);
  end_offset_ = offset;
  if (entries_.empty() && end_offset_ > header_size) reset_to_header();
}

void OutputSpool::create_file() {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) throw_errno("cannot create spool", path_);
  write_header(fd_, acked_seq_, acked_seq_);
  end_offset_ = header_size;
}

int OutputSpool::file() const {
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) throw_errno("cannot open spool", path_);
  }
  return fd_;
}

void OutputSpool::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void OutputSpool::append(std::uint64_t seq, std::string_view frame) {
  if (seq != last_seq_ + 1) throw std::logic_error("spool sequence numbers must be consecutive");
  if (end_offset_ == 0) create_file();
  // One write for prefix and frame: a crash leaves at most one torn record at the end.
  std::array<unsigned char, length_prefix> prefix{};
  boost::endian::store_big_u32(prefix.data(), static_cast<std::uint32_t>(frame.size()));
  write_record_at(file(), {reinterpret_cast<const char*>(prefix.data()), prefix.size()}, frame, end_offset_, path_);
  entries_.push_back({seq, end_offset_ + length_prefix, static_cast<std::uint32_t>(frame.size())});
  end_offset_ += length_prefix + frame.size();
  last_seq_ = seq;
  unacked_bytes_ += frame.size();
}

void OutputSpool::acknowledge(std::uint64_t seq) {
  seq = std::min(seq, last_seq_);
  if (seq <= acked_seq_) return;
  while (!entries_.empty() && entries_.front().seq <= seq) {
    unacked_bytes_ -= entries_.front().size;
    entries_.pop_front();
  }
  acked_seq_ = seq;
  if (end_offset_ == 0) return;
  if (entries_.empty()) return reset_to_header();
  const auto acked_prefix = entries_.front().offset - length_prefix - header_size;
  if (acked_prefix >= std::max(compaction_floor, unacked_bytes_)) return rewrite_without_acked_prefix();
  std::array<unsigned char, 8> acked{};
  boost::endian::store_big_u64(acked.data(), acked_seq_);
  write_all_at(file(), reinterpret_cast<const char*>(acked.data()), acked.size(), magic.size() + 8, path_);
}

void OutputSpool::rewrite_without_acked_prefix() {
  auto temporary = path_;
  temporary += ".tmp";
  const int fresh = ::open(temporary.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fresh < 0) throw_errno("cannot create spool", temporary);
  try {
    write_header(fresh, acked_seq_, acked_seq_);
    const auto tail_start = entries_.front().offset - length_prefix;
    const auto shift = tail_start - header_size;
    std::vector<char> buffer(1 << 20);
    for (std::uint64_t from = tail_start; from < end_offset_;) {
      const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end_offset_ - from));
      if (!read_exact_at(file(), buffer.data(), size, from, path_)) throw std::runtime_error("spool shrank while compacting");
      write_all_at(fresh, buffer.data(), size, from - shift, temporary);
      from += size;
    }
    if (::rename(temporary.c_str(), path_.c_str()) != 0) throw_errno("cannot replace spool", path_);
    for (auto& entry : entries_) entry.offset -= shift;
    end_offset_ -= shift;
  } catch (...) {
    ::close(fresh);
    ::unlink(temporary.c_str());
    throw;
  }
  close_file();
  fd_ = fresh;
}

std::vector<std::string> OutputSpool::frames_after(std::uint64_t seq) const {
  std::vector<std::string> frames;
  for (const auto& entry : entries_) {
    if (entry.seq <= seq) continue;
    std::string frame(entry.size, '\0');
    if (!read_exact_at(file(), frame.data(), frame.size(), entry.offset, path_)) {
      throw std::runtime_error(path_.string() + " is shorter than its index");
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

void OutputSpool::remove() {
  close_file();
  ::unlink(path_.c_str());
  entries_.clear();
  unacked_bytes_ = 0;
  end_offset_ = 0;
}

}  // namespace tether::agent
