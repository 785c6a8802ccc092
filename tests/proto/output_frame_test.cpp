#include "proto/output_frame.hpp"

#include "common/crypto.hpp"
#include "common/ids.hpp"

#include <catch2/catch.hpp>

using namespace tether::proto;

namespace {
const std::string op = "00112233-4455-6677-8899-aabbccddeeff";
}

TEST_CASE("output frames survive encode and decode for both streams", "[proto][frame]") {
  const std::string payload("hi\n\0\xff binary", 13);
  for (auto stream : {Stream::stdout_stream, Stream::stderr_stream}) {
    const std::string frame = encode_output_frame(stream, op, 7, payload);
    const auto view = decode_output_frame(frame);
    CHECK(view.stream == stream);
    CHECK(view.operation_id == op);
    CHECK(view.seq == 7);
    CHECK(view.payload == payload);
  }
}

TEST_CASE("the frame header is laid out as PROTOCOL.md says", "[proto][frame]") {
  const std::uint64_t seq = 0x0102030405060708ull;
  const std::string frame = encode_output_frame(Stream::stderr_stream, op, seq, "x");
  REQUIRE(frame.size() == output_header_size + 1);
  CHECK(static_cast<unsigned char>(frame[0]) == 0x01);  // kind: output
  CHECK(static_cast<unsigned char>(frame[1]) == 2);     // stream: stderr
  for (std::size_t i = 0; i < 16; ++i) {
    CHECK(static_cast<unsigned char>(frame[2 + i]) == static_cast<unsigned char>(i * 0x11));  // UUID bytes in order
  }
  for (std::size_t i = 0; i < 8; ++i) {
    CHECK(static_cast<unsigned char>(frame[18 + i]) == i + 1);  // big-endian sequence number
  }
  CHECK(frame[26] == 'x');
}

TEST_CASE("payloads from 1 byte to 64 KiB are accepted and larger or empty ones refused", "[proto][frame]") {
  const std::string largest = tether::crypto::random_bytes(max_output_payload);
  // The view points into the frame, which must outlive it.
  const auto frame = encode_output_frame(Stream::stdout_stream, op, 1, largest);
  const auto view = decode_output_frame(frame);
  CHECK(view.payload == largest);
  const auto small = encode_output_frame(Stream::stdout_stream, op, 1, "a");
  CHECK(decode_output_frame(small).payload == "a");

  CHECK_THROWS_AS(encode_output_frame(Stream::stdout_stream, op, 1, ""), std::invalid_argument);
  CHECK_THROWS_AS(encode_output_frame(Stream::stdout_stream, op, 1, std::string(max_output_payload + 1, 'x')),
                  std::invalid_argument);
}

TEST_CASE("sequence numbers keep all 64 bits", "[proto][frame]") {
  const std::uint64_t seq = 0xFFFFFFFFFFFFFFFEull;
  CHECK(decode_output_frame(encode_output_frame(Stream::stdout_stream, op, seq, "x")).seq == seq);
}

TEST_CASE("malformed output frames are refused", "[proto][frame]") {
  const std::string good = encode_output_frame(Stream::stdout_stream, op, 1, "payload");

  CHECK_THROWS_WITH(decode_output_frame(""), Catch::Contains("too short"));
  CHECK_THROWS_WITH(decode_output_frame(good.substr(0, output_header_size)), Catch::Contains("too short"));

  std::string wrong_kind = good;
  wrong_kind[0] = 0x02;
  CHECK_THROWS_WITH(decode_output_frame(wrong_kind), Catch::Contains("kind"));

  for (char stream : {'\0', '\3'}) {
    std::string wrong_stream = good;
    wrong_stream[1] = stream;
    CHECK_THROWS_WITH(decode_output_frame(wrong_stream), Catch::Contains("stream"));
  }

  std::string seq_zero = good;
  for (std::size_t i = 18; i < 26; ++i) seq_zero[i] = '\0';
  CHECK_THROWS_WITH(decode_output_frame(seq_zero), Catch::Contains("sequence"));

  std::string oversized = encode_output_frame(Stream::stdout_stream, op, 1, std::string(max_output_payload, 'x'));
  oversized.push_back('x');
  CHECK_THROWS_WITH(decode_output_frame(oversized), Catch::Contains("too large"));
}

TEST_CASE("encoding refuses an operation id that is not a UUID", "[proto][frame]") {
  CHECK_THROWS_AS(encode_output_frame(Stream::stdout_stream, "not-a-uuid", 1, "x"), std::invalid_argument);
}

TEST_CASE("stream names are the ones the API uses", "[proto][frame]") {
  CHECK(stream_name(Stream::stdout_stream) == "stdout");
  CHECK(stream_name(Stream::stderr_stream) == "stderr");
}
