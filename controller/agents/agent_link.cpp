#include "controller/agents/agent_link.hpp"

#include "common/logging.hpp"
#include "controller/metrics/metrics.hpp"
#include "controller/store/application_store.hpp"
#include "controller/store/audit_store.hpp"
#include "controller/store/operation_store.hpp"
#include "controller/store/server_store.hpp"
#include "controller/store/sql_text.hpp"
#include "proto/output_frame.hpp"

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <set>

namespace tether::agents {
namespace net = boost::asio;

namespace {
// Output held for one connection before reading from its socket pauses: back-pressure that reaches
// the agent's pipes instead of growing the controller's memory.
constexpr std::size_t max_pending_output_bytes = 8 * 1024 * 1024;
constexpr auto retry_delay = std::chrono::milliseconds(500);
// Output alone waits this long for more to join it, up to this size: a fast stream is then
// stored in transactions of a few MiB instead of one per 100 KiB, which keeps PostgreSQL's
// share of it small. Events (accepted, finished...) never wait.
constexpr auto output_gather_delay = std::chrono::milliseconds(5);
constexpr std::size_t output_gather_bytes = 4 * 1024 * 1024;

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace

AgentLink::AgentLink(operations::Lifecycle& lifecycle, std::string server_id, net::any_io_executor strand)
    : strand_(std::move(strand)), lifecycle_(lifecycle), dispatcher_(lifecycle.dispatcher()), server_id_(std::move(server_id)), retry_timer_(strand_), gather_timer_(strand_) {}

void AgentLink::send(const proto::ControllerMessage& message) {
  net::post(strand_, [self = shared_from_this(), text = proto::encode(message)]() mutable {
    if (!self->closed_) self->write_text(std::move(text));
  });
}

void AgentLink::protocol_error(const std::string& what) {
  spdlog::warn("event=agent_protocol_error server_id={} error=\"{}\"", server_id_, what);
  close("protocol error: " + what);
}

void AgentLink::refuse(const store::operations::AgentReportRefused& refusal) {
  if (const auto* foreign = dynamic_cast<const store::operations::ForeignOperation*>(&refusal)) {
    // A connection holding this server's token spoke for another server: its token may be stolen
    // or its agent compromised. Operators see it in the log and in the audit.
    spdlog::error("event=security_foreign_operation server_id={} operation_id={} owner_server_id={} "
                  "detail=\"an agent connection reported on another server's operation; nothing of it was stored\"",
                  server_id_, foreign->operation_id, foreign->owner_server_id);
    store::audit::Entry entry;
    entry.actor = "server:" + server_id_;
    entry.action = "agent.foreign_operation";
    entry.target = foreign->operation_id;
    entry.outcome = "denied";
    entry.server_id = server_id_;
    entry.detail_json = boost::json::serialize(boost::json::object{
        {"operation_id", foreign->operation_id}, {"owner_server_id", foreign->owner_server_id},
        {"detail", "the connection was closed and nothing of its report was stored"}});
    dispatcher_.db().submit(
        [entry = std::move(entry)](pqxx::connection& connection) {
          pqxx::work txn(connection);
          store::audit::record(txn, entry);
          txn.commit();
        },
        [](std::exception_ptr) { spdlog::warn("event=security_audit_failed detail=\"the log line above stands\""); });
  }
  protocol_error(refusal.what());
}

void AgentLink::on_text(std::string_view text) {
  std::optional<proto::AgentMessage> message;
  try {
    message = proto::decode_agent_message(text);
  } catch (const std::invalid_argument& e) {
    return protocol_error(e.what());
  }
  if (!message) {
    spdlog::debug("event=agent_message_ignored server_id={} reason=unknown_type", server_id_);
    return;
  }
  if (auto* hello = std::get_if<proto::Hello>(&*message)) {
    if (hello_seen_) return protocol_error("a second hello on the same connection");
    hello_seen_ = true;
    return handle_hello(std::move(*hello));
  }
  if (!hello_seen_) return protocol_error("the first message must be hello");
  if (std::holds_alternative<proto::Heartbeat>(*message)) {
    pending_.heartbeat = true;
  } else {
    pending_.events.push_back(std::move(*message));
  }
  flush();
}

void AgentLink::on_binary(std::string_view frame) {
  if (!hello_seen_) return protocol_error("output before hello");
  proto::OutputFrameView view;
  try {
    view = proto::decode_output_frame(frame);
  } catch (const std::invalid_argument& e) {
    return protocol_error(e.what());
  }
  pending_.output[view.operation_id].push_back(
      store::OutputChunk{view.seq, static_cast<int>(view.stream), std::string(view.payload)});
  pending_.output_bytes += streams::chunk_cost(view.payload.size());
  if (auto* metrics = lifecycle_.metrics()) metrics->output_received(view.payload.size());
  update_reading();
  flush();
}

void AgentLink::on_closed() {
  if (closed_) return;
  closed_ = true;
  retry_timer_.cancel();
  gather_timer_.cancel();
  const bool held_the_slot = dispatcher_.detach(server_id_, this);
  spdlog::info("event=agent_disconnected server_id={}", server_id_);
  // A link replaced by a newer connection of the same agent must not erase the newer one's row.
  if (!held_the_slot) return;
  const auto instance = dispatcher_.settings().instance_id;
  dispatcher_.db().submit(
      [server_id = server_id_, instance](pqxx::connection& connection) {
        pqxx::work txn(connection);
        store::servers::release_session(txn, server_id, instance);
        txn.commit();
      },
      [server_id = server_id_](std::exception_ptr) {
        // Harmless: the row is replaced when the agent reconnects, or cleared at the next start.
        spdlog::warn("event=agent_session_release_failed server_id={}", server_id);
      });
}

void AgentLink::handle_hello(proto::Hello hello) {
  if (hello.protocol_version != proto::protocol_version) {
    return protocol_error("unsupported protocol_version " + std::to_string(hello.protocol_version));
  }
  in_flight_ = true;
  auto self = shared_from_this();
  dispatcher_.db().submit(
      [self, hello = std::move(hello)](pqxx::connection& connection) {
        auto& dispatcher = self->dispatcher_;
        pqxx::work txn(connection);
        store::servers::record_hello(txn, self->server_id_,
                                     {hello.hostname, hello.os, hello.kernel, hello.arch, hello.agent_version,
                                      hello.boot_id});
        store::servers::claim_session(txn, self->server_id_, dispatcher.settings().instance_id);

        proto::Welcome welcome;
        welcome.server_id = self->server_id_;
        welcome.heartbeat_interval_seconds = dispatcher.settings().heartbeat_interval_seconds;
        std::vector<std::string> listed;
        for (const auto& op : hello.operations) listed.push_back(op.operation_id);
        auto settlement = self->lifecycle_.settle_hello(txn, self->server_id_, listed);
        welcome.operations = std::move(settlement.listed);
        txn.commit();
        pqxx::nontransaction read(connection);
        auto ended = self->lifecycle_.prepare_end(read, std::move(settlement.ended));
        auto dispatches = std::move(settlement.dispatches);
        auto cancels = std::move(settlement.cancels);
        net::post(self->strand_, [self, welcome = std::move(welcome), dispatches = std::move(dispatches),
                                  cancels = std::move(cancels), ended = std::move(ended),
                                  hostname = hello.hostname]() mutable {
          self->in_flight_ = false;
          self->lifecycle_.announce_end(ended);
          if (self->closed_) return;
          self->write_text(proto::encode(proto::ControllerMessage{welcome}));
          self->ready_ = true;
          self->dispatcher_.attach(self);
          for (const auto& dispatch : dispatches) self->write_text(proto::encode(proto::ControllerMessage{dispatch}));
          for (const auto& cancel : cancels) self->write_text(proto::encode(proto::ControllerMessage{cancel}));
          spdlog::info("event=agent_connected server_id={} hostname={} resumed={} dispatched={}", self->server_id_,
                       logging::quote(hostname), welcome.operations.size(), dispatches.size());
          self->flush();
        });
      },
      [self](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const store::operations::AgentReportRefused& refusal) {
          return self->refuse(refusal);
        } catch (const std::exception& e) {
          spdlog::warn("event=agent_hello_failed server_id={} error=\"{}\"", self->server_id_, e.what());
        }
        // The agent reconnects with backoff and says hello again once the database answers.
        self->close("the controller could not record the hello (database unavailable)");
      });
}

AgentLink::BatchOutcome AgentLink::write_batch(pqxx::connection& connection, const Batch& batch) {
  BatchOutcome outcome;
  pqxx::work txn(connection);
  const store::operations::OutputLimits limits{dispatcher_.settings().max_output_bytes_per_stream};
  for (const auto& [operation_id, chunks] : batch.output) {
    if (auto appended = store::operations::append_output(txn, server_id_, operation_id, chunks, limits)) {
      outcome.acks[operation_id] = appended->seq;
      outcome.appended[operation_id] = *appended;
    } else {
      // Output of an operation this controller has no record of: acknowledge so the agent drops it.
      outcome.acks[operation_id] = chunks.back().seq;
    }
  }
  for (const auto& event : batch.events) {
    std::visit(overloaded{
                   [&](const proto::Accepted& m) {
                     store::operations::mark_running(txn, server_id_, m.operation_id, false);
                     outcome.settled.push_back(m.operation_id);
                   },
                   [&](const proto::Started& m) { store::operations::mark_running(txn, server_id_, m.operation_id, true); },
                   [&](const proto::Rejected& m) {
                     store::operations::fail(txn, server_id_, m.operation_id, "the agent rejected the operation: " + m.error);
                     outcome.settled.push_back(m.operation_id);
                     outcome.finished.push_back(m.operation_id);
                   },
                   [&](const proto::Finished& m) {
                     store::operations::finish(txn, server_id_, m.operation_id,
                                               {m.status, m.exit_code, m.duration_ms, m.error}, m.last_seq);
                     if (m.resolved_commit) {
                       store::applications::record_resolved_commit(txn, server_id_, m.operation_id,
                                                                   *m.resolved_commit);
                     }
                     outcome.settled.push_back(m.operation_id);
                     outcome.finished.push_back(m.operation_id);
                   },
                   [](const auto&) {},
               },
               event);
  }
  if (batch.heartbeat) store::servers::record_heartbeat(txn, server_id_);
  if (outcome.acks.empty() && outcome.finished.empty()) {
    // Nothing in this batch is acknowledged to the agent (accepted, started, heartbeats): losing
    // it in a database crash is harmless, since the agent's next hello re-establishes the state.
    // Not waiting for the WAL flush keeps a disk sync off every operation's critical path.
    store::relax_commit_durability(txn);
  }
  txn.commit();
  pqxx::nontransaction read(connection);
  outcome.ended = lifecycle_.prepare_end(read, outcome.finished);
  return outcome;
}

void AgentLink::flush() {
  if (!ready_ || in_flight_ || closed_ || pending_.empty()) return;
  const bool output_only = pending_.events.empty() && !pending_.heartbeat;
  if (output_only && pending_.output_bytes < output_gather_bytes) {
    if (gathering_) return;
    gathering_ = true;
    gather_timer_.expires_after(output_gather_delay);
    gather_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      self->gathering_ = false;
      if (!ec) self->write_pending();
    });
    return;
  }
  write_pending();
}

void AgentLink::write_pending() {
  if (!ready_ || in_flight_ || closed_ || pending_.empty()) return;
  in_flight_ = true;
  auto batch = std::make_shared<Batch>(std::exchange(pending_, Batch{}));
  auto self = shared_from_this();
  dispatcher_.db().submit(
      [self, batch](pqxx::connection& connection) {
        auto outcome = self->write_batch(connection, *batch);
        net::post(self->strand_, [self, batch, outcome = std::move(outcome)] {
          self->in_flight_ = false;
          for (const auto& id : outcome.settled) self->dispatcher_.forget(id);
          // Live readers get the output before anyone hears that the operation ended.
          self->publish_output(*batch, outcome);
          self->lifecycle_.announce_end(outcome.ended);
          if (self->closed_) return;
          for (const auto& [id, seq] : outcome.acks) {
            self->write_text(proto::encode(proto::ControllerMessage{proto::Ack{id, seq}}));
          }
          for (const auto& id : outcome.finished) {
            self->write_text(proto::encode(proto::ControllerMessage{proto::FinishedAck{id}}));
          }
          self->update_reading();
          self->flush();
        });
      },
      [self, batch](std::exception_ptr error) {
        try {
          std::rethrow_exception(error);
        } catch (const store::operations::AgentReportRefused& refusal) {
          // Rolled back: nothing of the batch is stored, and the agent is not told anything was.
          return self->refuse(refusal);
        } catch (const std::exception& e) {
          spdlog::warn("event=agent_batch_failed server_id={} error=\"{}\" retry_ms={}", self->server_id_, e.what(),
                       retry_delay.count());
        }
        // Nothing was acknowledged, so nothing is lost: keep the batch and try again shortly.
        net::post(self->strand_, [self, batch] {
          self->in_flight_ = false;
          self->merge_back(std::move(*batch));
          self->retry_timer_.expires_after(retry_delay);
          self->retry_timer_.async_wait([self](boost::system::error_code ec) {
            if (!ec) self->flush();
          });
        });
      });
}

void AgentLink::publish_output(Batch& batch, const BatchOutcome& outcome) {
  auto& hub = dispatcher_.output_hub();
  for (auto& [operation_id, chunks] : batch.output) {
    const auto appended = outcome.appended.find(operation_id);
    if (appended == outcome.appended.end() || !hub.has_subscribers(operation_id)) continue;
    // Only chunks this batch stored for the first time: a resend was published when it first came.
    std::vector<store::OutputChunk> fresh;
    for (auto& chunk : chunks) {
      if (chunk.seq > appended->second.previous_seq && chunk.seq <= appended->second.seq) {
        fresh.push_back(std::move(chunk));
      }
    }
    hub.publish(operation_id, std::move(fresh), [this] {
      // Runs on this strand, inside publish: the pause is in place before the hold can be released.
      if (auto hold = current_hold_.lock()) return hold;
      ++reader_holds_;
      update_reading();
      auto hold = std::make_shared<streams::ReadHold>([self = shared_from_this()] {
        net::post(self->strand_, [self] {
          --self->reader_holds_;
          self->update_reading();
        });
      });
      current_hold_ = hold;
      return hold;
    });
  }
}

void AgentLink::update_reading() {
  const bool pause = pending_.output_bytes > max_pending_output_bytes || reader_holds_ > 0;
  if (pause == paused_ || closed_) return;
  paused_ = pause;
  if (pause) spdlog::debug("event=agent_reading_paused server_id={} reader_holds={}", server_id_, reader_holds_);
  set_reading_paused(pause);
}

void AgentLink::merge_back(Batch batch) {
  for (auto& [id, chunks] : pending_.output) {
    auto& earlier = batch.output[id];
    earlier.insert(earlier.end(), std::make_move_iterator(chunks.begin()), std::make_move_iterator(chunks.end()));
  }
  batch.events.insert(batch.events.end(), std::make_move_iterator(pending_.events.begin()),
                      std::make_move_iterator(pending_.events.end()));
  batch.output_bytes += pending_.output_bytes;
  batch.heartbeat = batch.heartbeat || pending_.heartbeat;
  pending_ = std::move(batch);
}

}  // namespace tether::agents
