#include "controller/events/trigger_firing.hpp"

#include "controller/events/event_fields.hpp"
#include "controller/operations/operation_fields.hpp"
#include "controller/store/job_store.hpp"

namespace tether::events {

std::optional<runs::Created> fire_trigger(pqxx::transaction_base& txn, runs::Fanout& fanout,
                                          const store::TriggerRecord& trigger, const Firing& firing,
                                          runs::FanOut fan_out) {
  const auto job = store::jobs::find(txn, trigger.job_id);
  if (!job) return std::nullopt;
  runs::FireContext context;
  context.trigger_id = trigger.id;
  context.event_id = firing.event_id;
  context.chain_depth = firing.chain_depth;
  context.event_env = firing.env;
  context.event_env["TETHER_TRIGGER_ID"] = trigger.id;
  if (firing.event_id) context.event_env["TETHER_EVENT_ID"] = std::to_string(*firing.event_id);
  if (trigger.retry_strategy) {
    context.retry = runs::RetryPolicy{*trigger.retry_strategy, trigger.max_retries.value_or(0),
                                      trigger.retry_base_delay.value_or("30s")};
  }
  context.fire_limit_max = trigger.fire_limit_max;
  context.fire_limit_window = trigger.fire_limit_window;
  if (!job->enabled) context.refusal = "skipped: the job is disabled";

  // A GitHub push deploys the commit it pushed unless the trigger names another field.
  auto ref_field = trigger.commit_ref_from;
  if (!ref_field && trigger.provider == std::optional<std::string>("github")) ref_field = "sha";
  if (ref_field && job->operation_type == "deploy" && !context.refusal) {
    const auto* value = field_at(firing.fields, *ref_field);
    const auto text = value ? scalar_text(*value) : std::nullopt;
    if (!text || !operations::valid_git_ref(*text)) {
      context.refusal = "refused: the event's " + *ref_field + " is not a commit ref a deploy can take";
    } else {
      context.commit_ref = *text;
    }
  }
  const auto now = fanout.clock().now();
  return fanout.fire_job(txn, *job, now, firing.fire_id, "trigger:" + trigger.id, fan_out, &context);
}

}  // namespace tether::events
