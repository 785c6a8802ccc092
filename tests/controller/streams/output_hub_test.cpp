#include "controller/streams/output_hub.hpp"

#include <catch2/catch.hpp>

#include <atomic>

using namespace tether;
using streams::chunk_cost;
using streams::OutputHub;
using streams::ReadHold;

namespace {

std::vector<store::OutputChunk> chunks_of(std::uint64_t first_seq, std::size_t count, std::size_t size) {
  std::vector<store::OutputChunk> chunks;
  for (std::size_t i = 0; i < count; ++i) chunks.push_back({first_seq + i, 1, std::string(size, 'x')});
  return chunks;
}

// A link's side of back-pressure: counts holds made and released.
struct HoldCounter {
  int made = 0;
  std::shared_ptr<std::atomic<int>> released = std::make_shared<std::atomic<int>>(0);
  std::function<std::shared_ptr<ReadHold>()> maker() {
    return [this] {
      ++made;
      return std::make_shared<ReadHold>([released = released] { ++*released; });
    };
  }
};

std::vector<std::uint64_t> seqs_of(const std::vector<streams::SharedChunk>& chunks) {
  std::vector<std::uint64_t> seqs;
  for (const auto& chunk : chunks) seqs.push_back(chunk->seq);
  return seqs;
}

}  // namespace

TEST_CASE("published chunks reach every reader of the operation in order, and only them", "[streams][hub]") {
  OutputHub hub;
  auto first = hub.subscribe("op-1", 4096);
  auto second = hub.subscribe("op-1", 4096);
  auto other = hub.subscribe("op-2", 4096);
  HoldCounter holds;
  hub.publish("op-1", chunks_of(1, 3, 10), holds.maker());
  hub.publish("op-1", chunks_of(4, 1, 10), holds.maker());
  CHECK(seqs_of(first->take(4096, 0)) == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(seqs_of(second->take(4096, 0)) == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(other->take(4096, 0).empty());
  CHECK(holds.made == 0);
}

TEST_CASE("output published with no reader is dropped at once", "[streams][hub]") {
  OutputHub hub;
  HoldCounter holds;
  CHECK_FALSE(hub.has_subscribers("op-1"));
  hub.publish("op-1", chunks_of(1, 100, 1000), holds.maker());
  auto late = hub.subscribe("op-1", 1024);
  CHECK(late->take(1024, 0).empty());
  late.reset();
  CHECK_FALSE(hub.has_subscribers("op-1"));
}

TEST_CASE("take returns at most about max_bytes but never nothing when the next chunk is queued", "[streams][hub]") {
  OutputHub hub;
  auto reader = hub.subscribe("op", 1 << 20);
  HoldCounter holds;
  hub.publish("op", chunks_of(1, 5, 100), holds.maker());
  CHECK(seqs_of(reader->take(2 * chunk_cost(100), 0)) == std::vector<std::uint64_t>{1, 2});
  CHECK(seqs_of(reader->take(10, 2)) == std::vector<std::uint64_t>{3});  // larger than max: still one
  CHECK(reader->first_queued_seq() == 4u);
  CHECK(reader->queued_bytes() == 2 * chunk_cost(100));
  CHECK(seqs_of(reader->take(1 << 20, 3)) == std::vector<std::uint64_t>{4, 5});
  CHECK_FALSE(reader->first_queued_seq());
}

TEST_CASE("take drops chunks already seen and stops at a hole in the sequence", "[streams][hub]") {
  OutputHub hub;
  auto reader = hub.subscribe("op", 1 << 20);
  HoldCounter holds;
  hub.publish("op", chunks_of(3, 3, 10), holds.maker());  // 3, 4, 5
  hub.publish("op", chunks_of(8, 2, 10), holds.maker());  // 8, 9: 6 and 7 are missing
  CHECK(seqs_of(reader->take(1 << 20, 3)) == std::vector<std::uint64_t>{4, 5});  // 3 was seen
  CHECK(reader->take(1 << 20, 5).empty());
  CHECK(reader->first_queued_seq() == 8u);  // the hole shows
  CHECK(seqs_of(reader->take(1 << 20, 7)) == std::vector<std::uint64_t>{8, 9});  // once filled elsewhere
}

TEST_CASE("tiny chunks count with their overhead against a reader's limit", "[streams][hub]") {
  OutputHub hub;
  auto reader = hub.subscribe("op", 10 * chunk_cost(1));
  HoldCounter holds;
  hub.publish("op", chunks_of(1, 11, 1), holds.maker());  // 11 bytes of output, 11 chunks
  CHECK(holds.made == 1);
  CHECK(reader->holding_since().has_value());
}

TEST_CASE("a full reader holds the link back until it has drained to half its limit", "[streams][hub]") {
  OutputHub hub;
  auto reader = hub.subscribe("op", 10 * chunk_cost(100));
  HoldCounter holds;
  hub.publish("op", chunks_of(1, 8, 100), holds.maker());  // 8 of 10: room left
  CHECK(holds.made == 0);
  CHECK_FALSE(reader->holding_since());
  hub.publish("op", chunks_of(9, 4, 100), holds.maker());  // 12: full
  CHECK(holds.made == 1);
  CHECK(reader->holding_since().has_value());
  CHECK(*holds.released == 0);
  reader->take(6 * chunk_cost(100), 0);  // 6 left: still above half
  CHECK(*holds.released == 0);
  reader->take(chunk_cost(100), 6);  // 5: half
  CHECK(*holds.released == 1);
  CHECK_FALSE(reader->holding_since());
}

TEST_CASE("one hold is shared by every full reader and released when the last one drains", "[streams][hub]") {
  OutputHub hub;
  auto fast = hub.subscribe("op", chunk_cost(100));
  auto slow = hub.subscribe("op", chunk_cost(100));
  HoldCounter holds;
  hub.publish("op", chunks_of(1, 2, 100), holds.maker());
  CHECK(holds.made == 1);
  fast->take(1 << 20, 0);
  CHECK(*holds.released == 0);
  slow->take(1 << 20, 0);
  CHECK(*holds.released == 1);
}

TEST_CASE("a reader that goes away releases the link it was holding back", "[streams][hub]") {
  OutputHub hub;
  auto reader = hub.subscribe("op", chunk_cost(100));
  HoldCounter holds;
  hub.publish("op", chunks_of(1, 3, 100), holds.maker());
  REQUIRE(holds.made == 1);
  reader.reset();
  CHECK(*holds.released == 1);
  CHECK_FALSE(hub.has_subscribers("op"));
}

TEST_CASE("a waiting reader is woken once by the next publish, or at once if output is queued", "[streams][hub]") {
  OutputHub hub;
  auto reader = hub.subscribe("op", 1 << 20);
  HoldCounter holds;
  int wakes = 0;
  reader->when_ready([&] { ++wakes; });
  CHECK(wakes == 0);
  hub.publish("op", chunks_of(1, 1, 10), holds.maker());
  CHECK(wakes == 1);
  hub.publish("op", chunks_of(2, 1, 10), holds.maker());
  CHECK(wakes == 1);  // the callback is used up
  reader->when_ready([&] { ++wakes; });
  CHECK(wakes == 2);  // output was already queued
}

TEST_CASE("a chunk queued for many readers counts once against the hub's budget, until the last reader lets it go",
          "[streams][hub][budget]") {
  OutputHub hub(64 * 1024 * 1024);
  std::vector<std::shared_ptr<streams::OutputSubscription>> readers;
  for (int i = 0; i < 100; ++i) readers.push_back(hub.subscribe("op-1", 4 * 1024 * 1024));
  HoldCounter holds;
  hub.publish("op-1", chunks_of(1, 16, 64 * 1024), holds.maker());
  // 100 readers of 1 MiB cost 1 MiB, not 100.
  CHECK(hub.buffered_bytes() == 16 * chunk_cost(64 * 1024));
  CHECK(holds.made == 0);
  for (std::size_t i = 0; i + 1 < readers.size(); ++i) readers[i]->take(4 * 1024 * 1024, 0);
  CHECK(hub.buffered_bytes() == 16 * chunk_cost(64 * 1024));  // the last reader still has them
  readers.back().reset();
  CHECK(hub.buffered_bytes() == 0);
}

TEST_CASE("what streams charge counts against the budget until the charge goes", "[streams][hub][budget]") {
  OutputHub hub(1024 * 1024);
  auto first = hub.charge(600 * 1024);
  CHECK_FALSE(hub.over_budget());
  auto second = hub.charge(600 * 1024);
  CHECK(hub.buffered_bytes() == 1200 * 1024);
  CHECK(hub.over_budget());
  second.reset();
  CHECK_FALSE(hub.over_budget());
  first.reset();
  CHECK(hub.buffered_bytes() == 0);
}

TEST_CASE("once the budget is spent, readers of many operations hold their links although each queue has room",
          "[streams][hub][budget]") {
  constexpr std::size_t budget = 2 * 1024 * 1024;
  constexpr std::size_t queue_limit = 4 * 1024 * 1024;
  OutputHub hub(budget);
  std::vector<std::shared_ptr<streams::OutputSubscription>> readers;
  std::vector<HoldCounter> links(8);
  for (int op = 0; op < 8; ++op) readers.push_back(hub.subscribe("op-" + std::to_string(op), queue_limit));
  // Eight slow readers of eight operations, 512 KiB each: every queue is far below its own limit.
  for (int op = 0; op < 8; ++op) {
    hub.publish("op-" + std::to_string(op), chunks_of(1, 8, 64 * 1024), links[op].maker());
  }
  for (const auto& reader : readers) CHECK(reader->queued_bytes() < queue_limit / 4);
  // Past the budget, every link that published is held, so that together they cost about the
  // budget (plus the batch each published last), not a queue limit each.
  int held = 0;
  for (const auto& link : links) held += link.made;
  CHECK(held >= 4);
  CHECK(links.back().made == 1);
  // A reader that catches up lets its link go.
  readers.back()->take(queue_limit, 0);
  CHECK(*links.back().released == 1);
}
