#include "agent/output_spool.hpp"

#include "proto/output_frame.hpp"
#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fstream>
#include <unistd.h>

#include <vector>

using namespace tether::agent;
using tether::proto::Stream;
namespace fs = std::filesystem;

namespace {

const std::string op_id = "44444444-4444-4444-8444-444444444444";

std::string frame(std::uint64_t seq, const std::string& payload, Stream stream = Stream::stdout_stream) {
  return tether::proto::encode_output_frame(stream, op_id, seq, payload);
}

std::vector<std::uint64_t> seqs(const std::vector<std::string>& frames) {
  std::vector<std::uint64_t> out;
  for (const auto& f : frames) out.push_back(tether::proto::decode_output_frame(f).seq);
  return out;
}

}  // namespace

TEST_CASE("spool file is only created by the first chunk", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  OutputSpool spool(dir / "op.spool");
  CHECK_FALSE(fs::exists(dir / "op.spool"));
  CHECK(spool.last_seq() == 0);
  CHECK(spool.frames_after(0).empty());
  spool.append(1, frame(1, "a"));
  CHECK(fs::exists(dir / "op.spool"));
}

TEST_CASE("spool resends exactly the chunks after a sequence number, byte for byte", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  OutputSpool spool(dir / "op.spool");
  const std::vector<std::string> frames = {frame(1, "hi\n"), frame(2, "err\n", Stream::stderr_stream),
                                           frame(3, std::string(65536, 'z'))};
  for (std::uint64_t seq = 1; seq <= 3; ++seq) spool.append(seq, frames[seq - 1]);

  CHECK(spool.last_seq() == 3);
  CHECK(spool.frames_after(0) == frames);
  CHECK(spool.frames_after(1) == std::vector<std::string>{frames[1], frames[2]});
  CHECK(spool.frames_after(3).empty());
  const auto decoded = tether::proto::decode_output_frame(spool.frames_after(1)[0]);
  CHECK(decoded.stream == Stream::stderr_stream);
  CHECK(decoded.payload == "err\n");
}

TEST_CASE("spool ack drops acknowledged chunks and reduces the unacked bytes", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  OutputSpool spool(dir / "op.spool");
  for (std::uint64_t seq = 1; seq <= 5; ++seq) spool.append(seq, frame(seq, "0123456789"));
  const auto per_chunk = frame(1, "0123456789").size();
  CHECK(spool.unacked_bytes() == 5 * per_chunk);

  spool.acknowledge(2);
  CHECK(spool.acked_seq() == 2);
  CHECK(spool.unacked_bytes() == 3 * per_chunk);
  CHECK(seqs(spool.frames_after(0)) == std::vector<std::uint64_t>{3, 4, 5});

  spool.acknowledge(1);  // an older ack changes nothing
  CHECK(spool.acked_seq() == 2);
  spool.acknowledge(99);  // beyond the last chunk: everything is acknowledged
  CHECK(spool.acked_seq() == 5);
  CHECK(spool.unacked_bytes() == 0);
  CHECK(spool.file_size() == OutputSpool::header_size);
  CHECK(fs::file_size(dir / "op.spool") == OutputSpool::header_size);
}

TEST_CASE("spool survives a restart: unacked chunks and the last sequence number are kept", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  {
    OutputSpool spool(dir / "op.spool");
    for (std::uint64_t seq = 1; seq <= 4; ++seq) spool.append(seq, frame(seq, "line " + std::to_string(seq) + "\n"));
    spool.acknowledge(1);
  }
  {
    OutputSpool reopened(dir / "op.spool");
    CHECK(reopened.last_seq() == 4);
    CHECK(reopened.acked_seq() == 1);
    CHECK(seqs(reopened.frames_after(0)) == std::vector<std::uint64_t>{2, 3, 4});
    reopened.acknowledge(4);
    reopened.append(5, frame(5, "after restart"));
  }
  {
    OutputSpool reopened(dir / "op.spool");
    CHECK(reopened.last_seq() == 5);
    CHECK(reopened.acked_seq() == 4);
    CHECK(seqs(reopened.frames_after(0)) == std::vector<std::uint64_t>{5});
  }
}

TEST_CASE("spool fully acknowledged before a restart still knows its last sequence number", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  {
    OutputSpool spool(dir / "op.spool");
    for (std::uint64_t seq = 1; seq <= 3; ++seq) spool.append(seq, frame(seq, "x"));
    spool.acknowledge(3);
  }
  OutputSpool reopened(dir / "op.spool");
  CHECK(reopened.last_seq() == 3);
  CHECK(reopened.frames_after(0).empty());
  CHECK_NOTHROW(reopened.append(4, frame(4, "y")));
}

TEST_CASE("spool cuts off a record torn by a crash mid-write", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  {
    OutputSpool spool(dir / "op.spool");
    spool.append(1, frame(1, "whole"));
    spool.append(2, frame(2, "torn record"));
  }
  const auto full = fs::file_size(dir / "op.spool");
  fs::resize_file(dir / "op.spool", full - 3);

  OutputSpool reopened(dir / "op.spool");
  CHECK(reopened.last_seq() == 1);
  CHECK(seqs(reopened.frames_after(0)) == std::vector<std::uint64_t>{1});
  reopened.append(2, frame(2, "rewritten"));
  CHECK(tether::proto::decode_output_frame(reopened.frames_after(1)[0]).payload == "rewritten");
}

TEST_CASE("spool stays bounded: a long acknowledged prefix is compacted away", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  OutputSpool spool(dir / "op.spool");
  const std::string payload(64 * 1024, 'p');
  std::uint64_t seq = 0;
  // Acks trail the appends by two chunks, so the spool is never fully acknowledged.
  for (int i = 0; i < 1200; ++i) {
    ++seq;
    spool.append(seq, frame(seq, payload));
    if (seq > 2) spool.acknowledge(seq - 2);
  }
  CHECK(spool.unacked_bytes() == 2 * frame(1, payload).size());
  // 1200 chunks of 64 KiB were written (75 MiB); the file holds little more than the 32 MiB floor.
  CHECK(fs::file_size(dir / "op.spool") < 33u * 1024 * 1024);
  CHECK(seqs(spool.frames_after(0)) == std::vector<std::uint64_t>{1199, 1200});
  CHECK(tether::proto::decode_output_frame(spool.frames_after(1199)[0]).payload == payload);
}

TEST_CASE("spool refuses a file that is not a spool", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  std::ofstream(dir / "op.spool") << "something else entirely";
  CHECK_THROWS_AS(OutputSpool(dir / "op.spool"), std::runtime_error);
}

TEST_CASE("spool remove deletes the file", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  OutputSpool spool(dir / "op.spool");
  spool.append(1, frame(1, "x"));
  spool.remove();
  CHECK_FALSE(fs::exists(dir / "op.spool"));
}

TEST_CASE("spool closed to save a file descriptor reopens when it is needed again", "[agent][spool]") {
  tether::testing::TempDir dir("agent-spool");
  OutputSpool spool(dir / "op.spool");
  spool.append(1, frame(1, "one"));
  spool.close_file();
  CHECK(seqs(spool.frames_after(0)) == std::vector<std::uint64_t>{1});
  spool.close_file();
  spool.append(2, frame(2, "two"));
  spool.close_file();
  spool.acknowledge(1);
  CHECK(seqs(spool.frames_after(0)) == std::vector<std::uint64_t>{2});
  spool.close_file();
  OutputSpool reopened(dir / "op.spool");
  CHECK(reopened.acked_seq() == 1);
  CHECK(reopened.last_seq() == 2);
}
