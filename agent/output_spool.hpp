#pragma once
// One operation's unacknowledged output on disk (PROTOCOL.md rule 3).
//
// File layout: a 24-byte header ("TSPOOL1\n"; the base sequence number, i.e. the chunk just
// before the first record; the acknowledged sequence number; both u64 big-endian), followed by
// records of a u32 big-endian length and an encoded binary output frame (proto/output_frame.hpp),
// so a resend is a plain read. An ack rewrites the 8-byte acknowledged field in place.
// Acknowledged chunks are dropped from the front: when everything is acknowledged the file is
// truncated back to its header; when the acknowledged prefix grows past max(32 MiB, unacked bytes)
// the unacknowledged tail is copied into a fresh file. The file therefore stays within
// max(32 MiB, about twice the unacknowledged bytes), which back-pressure bounds by
// --spool-limit-bytes.
// Appends are not fsynced: the spool survives a crash of the agent, not power loss.
#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent {

class OutputSpool {
 public:
  // Opens an existing spool (a torn last record from a crash is cut off) or prepares a new one;
  // the file itself is only created by the first append. Throws std::system_error on I/O errors
  // and std::runtime_error when the file is not a spool.
  explicit OutputSpool(std::filesystem::path path);
  ~OutputSpool();
  OutputSpool(const OutputSpool&) = delete;
  OutputSpool& operator=(const OutputSpool&) = delete;

  // `frame` is the encoded output frame carrying `seq`, which must be last_seq() + 1.
  void append(std::uint64_t seq, std::string_view frame);
  // Drops every chunk up to and including `seq`.
  void acknowledge(std::uint64_t seq);
  // The encoded frames of every chunk after `seq`, oldest first.
  std::vector<std::string> frames_after(std::uint64_t seq) const;
  // Closes the file descriptor (an idle finished operation need not hold one); the next call
  // that needs the file opens it again.
  void close_file();
  // Closes and deletes the file.
  void remove();

  std::uint64_t last_seq() const { return last_seq_; }
  std::uint64_t acked_seq() const { return acked_seq_; }
  std::uint64_t unacked_bytes() const { return unacked_bytes_; }
  std::uint64_t file_size() const { return end_offset_; }
  const std::filesystem::path& path() const { return path_; }

  static constexpr std::uint64_t header_size = 24;

 private:
  struct Entry {
    std::uint64_t seq;
    std::uint64_t offset;  // of the frame (after its length prefix)
    std::uint32_t size;
  };

  void open_existing();
  void create_file();
  // The descriptor of the existing file, reopened if close_file() closed it.
  int file() const;
  void write_header(int fd, std::uint64_t base_seq, std::uint64_t acked_seq);
  void reset_to_header();
  void rewrite_without_acked_prefix();

  std::filesystem::path path_;
  mutable int fd_ = -1;  // -1 when the file does not exist yet or was closed by close_file()
  std::deque<Entry> entries_;  // unacknowledged chunks, oldest first
  std::uint64_t last_seq_ = 0;
  std::uint64_t acked_seq_ = 0;
  std::uint64_t unacked_bytes_ = 0;
  std::uint64_t end_offset_ = 0;  // 0 while there is no file
};

}  // namespace tether::agent
