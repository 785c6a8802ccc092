#pragma once
#include "common/clock.hpp"
#include "controller/store/page.hpp"
#include "controller/store/records.hpp"

#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tether::store::operations {

void insert(pqxx::transaction_base& txn, const NewOperation& op);
// Many in one statement (a run's fan-out).
void insert_many(pqxx::transaction_base& txn, const std::vector<NewOperation>& ops);
std::optional<OperationRecord> find(pqxx::transaction_base& txn, const std::string& id, bool with_output);

struct ListFilter {
  std::optional<std::string> run_id;
  std::optional<std::string> automation_key_id;
  int output_head_bytes = 4096;  // each listed operation carries this much of each stream
};
// A page of operations, newest first (created_at, then id, both descending), each with the head
// of its output. The cursor's sort key is created_at in epoch microseconds. Served by
// operations_by_created, operations_by_run_id or operations_by_key.
Page<OperationRecord> list(pqxx::transaction_base& txn, const ListFilter& filter, const PageRequest& page);

bool mark_dispatched(pqxx::transaction_base& txn, const std::string& id);

struct OutputLimits {
  std::int64_t max_bytes_per_stream;
};

// The operation's output_seq before and after an append: chunks in (previous_seq, seq] are new.
struct AppendedOutput {
  std::uint64_t previous_seq;
  std::uint64_t seq;
};

// ---- what an agent reports --------------------------------------------------------------------
// Every statement in this section is scoped to the reporting server (`AND server_id = $server`):
// an agent's connection reaches only operations dispatched to its own server, whatever ids it
// names. An id that belongs to another server raises ForeignOperation, and a report that breaks
// the protocol's ordering raises OutputOutOfSequence; the caller rolls its transaction back (so
// nothing of that connection's batch is stored) and closes the connection.

// A report the controller refuses outright: a protocol error, never retried.
struct AgentReportRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ForeignOperation : AgentReportRefused {
  ForeignOperation(std::string operation_id, std::string owner_server_id);
  std::string operation_id;
  std::string owner_server_id;
};
struct OutputOutOfSequence : AgentReportRefused {
  using AgentReportRefused::AgentReportRefused;
};

// Status moves only forward; each update is conditional on the current status so that messages
// handled late (a `started` after `finished`) can never move a finished operation back. Only a
// dispatched or running operation takes reports: a queued one was never sent to any agent.
bool mark_running(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id, bool started);

// Stores the chunks that continue the operation's sequence (a chunk at or below output_seq is a
// resend and is skipped) and advances output_seq. Bytes past the per-stream limit are not
// stored; the stream is flagged truncated but its chunks still count as received. A chunk past
// the next expected seq raises OutputOutOfSequence (the agent always sends in order). nullopt
// when the server has no such operation in progress: the agent may drop that output.
std::optional<AppendedOutput> append_output(pqxx::transaction_base& txn, const std::string& server_id,
                                            const std::string& id, const std::vector<OutputChunk>& chunks,
                                            const OutputLimits& limits);

struct Completion {
  std::string status;  // completed | timeout | failed | canceled
  std::optional<int> exit_code;
  std::optional<std::int64_t> duration_ms;
  std::optional<std::string> error;
};
// Returns false when the operation had already ended (the first ending wins).
bool complete(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id,
              const Completion& completion);
// complete() as `failed` with only an error, for operations that could not run or were lost.
bool fail(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id, const std::string& error);
// The agent's `finished`: complete() once every chunk up to last_seq is stored; a `finished`
// ahead of its output raises OutputOutOfSequence (the agent sends it after all its output).
bool finish(pqxx::transaction_base& txn, const std::string& server_id, const std::string& id,
            const Completion& completion, std::uint64_t last_seq);

// What is stored for the operations an agent's hello lists (ids it does not know are left out).
std::vector<StoredProgress> progress_on_server(pqxx::transaction_base& txn, const std::string& server_id,
                                               const std::vector<std::string>& ids);

// ---- end of what an agent reports -------------------------------------------------------------

// Stored chunks of the operation with seq > after_seq, oldest first, at most `max_chunks` of them
// (a page: a reader replays long output page by page, never all of it at once).
std::vector<OutputChunk> output_after(pqxx::transaction_base& txn, const std::string& id, std::uint64_t after_seq,
                                      int max_chunks);

// Cancel: a queued operation ends at once (true); a dispatched or running one is marked so that
// the agent is told now or at its next hello (true). False when the operation is not in that state.
bool cancel_queued(pqxx::transaction_base& txn, const std::string& id);
bool request_cancel(pqxx::transaction_base& txn, const std::string& id);

// Operations of a server that have not ended, for reconciling with an agent's hello.
std::vector<StoredProgress> open_for_server(pqxx::transaction_base& txn, const std::string& server_id);
// For readers (not agents): what is stored for these operations, whatever their server.
std::vector<StoredProgress> progress_of(pqxx::transaction_base& txn, const std::vector<std::string>& ids);
std::vector<std::string> queued_for_server(pqxx::transaction_base& txn, const std::string& server_id);

// Deadlines are judged at `now` (the caller's clock). Queued operations whose agent never
// connected before their deadline; returns their ids.
std::vector<std::string> fail_expired_queued(pqxx::transaction_base& txn, Clock::time_point now);
// Reboots past their deadline whose server has not come back: they end as timeout.
std::vector<std::string> time_out_overdue_reboots(pqxx::transaction_base& txn, Clock::time_point now);
// Dispatched or running operations well past their deadline on a server that is not connected.
std::vector<std::string> fail_overdue_unconnected(pqxx::transaction_base& txn, Clock::time_point now,
                                                  int grace_seconds);


}  // namespace tether::store::operations
