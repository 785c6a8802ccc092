// What a trigger sees of an event (controller/events/event_fields.hpp), without a server: the
// filter (every entry must match; exact text, or a shell pattern with * or ?; any element of an
// array; numbers and booleans by their text; a missing field never matches; dot paths into nested
// objects), the TETHER_EVENT_* environment made from the top-level scalars (names upper-cased,
// anything not a plain scalar or a list of them left out, NUL and oversize values refused, at most
// 50 of them), and the fields read out of a GitHub push payload as GitHub sends it.
#include "controller/events/event_fields.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <string>

using namespace tether;
using events::env_of_fields;
using events::filter_matches;
using events::github_fields;

namespace {

boost::json::value parse(const std::string& text) { return boost::json::parse(text); }

bool matches(const std::map<std::string, std::string>& filter, const std::string& fields) {
  return filter_matches(filter, parse(fields));
}

// A push to main of acme/app, shaped as GitHub delivers it (trimmed of URLs it repeats).
const std::string push_payload = R"({
  "ref": "refs/heads/main",
  "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
  "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
  "repository": {
    "id": 186853002,
    "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
    "name": "app",
    "full_name": "acme/app",
    "private": false,
    "owner": {"name": "acme", "email": null, "login": "acme", "id": 21031067, "type": "Organization"},
    "html_url": "https://github.com/acme/app",
    "default_branch": "main",
    "master_branch": "main",
    "topics": ["deploy", "web"]
  },
  "pusher": {"name": "octocat", "email": "octocat@github.com"},
  "sender": {"login": "octocat", "id": 583231, "type": "User", "site_admin": false},
  "created": false,
  "deleted": false,
  "forced": false,
  "base_ref": null,
  "compare": "https://github.com/acme/app/compare/6113728f27ae...0d1a26e67d8f",
  "commits": [
    {
      "id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
      "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
      "distinct": true,
      "message": "Update README.md",
      "timestamp": "2024-12-01T12:00:00+01:00",
      "url": "https://github.com/acme/app/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
      "author": {"name": "Mona Octocat", "email": "octocat@github.com", "username": "octocat"},
      "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
      "added": [],
      "removed": [],
      "modified": ["README.md"]
    }
  ],
  "head_commit": {
    "id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    "tree_id": "f9d2a07e9488b91af2641b26b9407fe22a451433",
    "distinct": true,
    "message": "Update README.md",
    "timestamp": "2024-12-01T12:00:00+01:00",
    "author": {"name": "Mona Octocat", "email": "octocat@github.com", "username": "octocat"},
    "committer": {"name": "GitHub", "email": "noreply@github.com", "username": "web-flow"},
    "added": [],
    "removed": [],
    "modified": ["README.md"]
  }
})";

}  // namespace

TEST_CASE("a filter entry without * or ? matches only the same text", "[events][filter]") {
  CHECK(matches({{"ref", "refs/heads/main"}}, R"({"ref":"refs/heads/main"})"));
  CHECK_FALSE(matches({{"ref", "refs/heads/main"}}, R"({"ref":"refs/heads/main2"})"));
  CHECK_FALSE(matches({{"ref", "refs/heads/main"}}, R"({"ref":"refs/heads/Main"})"));
  CHECK_FALSE(matches({{"ref", "refs/heads/main"}}, R"({"ref":""})"));
  INFO("an empty filter matches every event");
  CHECK(matches({}, R"({"ref":"anything"})"));
  CHECK(matches({}, "{}"));
}

TEST_CASE("a filter entry with * or ? is a shell pattern over the whole text", "[events][filter]") {
  const std::map<std::string, std::string> release{{"ref", "refs/heads/release-*"}};
  CHECK(matches(release, R"({"ref":"refs/heads/release-1.2"})"));
  CHECK(matches(release, R"({"ref":"refs/heads/release-"})"));
  CHECK_FALSE(matches(release, R"({"ref":"refs/heads/main"})"));
  CHECK_FALSE(matches(release, R"({"ref":"refs/tags/release-1.2"})"));
  CHECK_FALSE(matches(release, R"({"ref":"xrefs/heads/release-1"})"));

  const std::map<std::string, std::string> one_char{{"name", "web-?"}};
  CHECK(matches(one_char, R"({"name":"web-1"})"));
  CHECK_FALSE(matches(one_char, R"({"name":"web-12"})"));
  CHECK_FALSE(matches(one_char, R"({"name":"web-"})"));
}

TEST_CASE("a filter entry matches an array when any of its elements matches", "[events][filter]") {
  CHECK(matches({{"labels", "deploy"}}, R"({"labels":["docs","deploy"]})"));
  CHECK(matches({{"labels", "dep*"}}, R"({"labels":["docs","deploy"]})"));
  CHECK(matches({{"codes", "3"}}, R"({"codes":[1,2,3]})"));
  CHECK_FALSE(matches({{"labels", "deploy"}}, R"({"labels":["docs","deployment"]})"));
  CHECK_FALSE(matches({{"labels", "deploy"}}, R"({"labels":[]})"));
  CHECK_FALSE(matches({{"labels", "deploy"}}, R"({"labels":[{"name":"deploy"}]})"));
}

TEST_CASE("a filter entry matches a number or a boolean by its text", "[events][filter]") {
  CHECK(matches({{"exit_code", "0"}}, R"({"exit_code":0})"));
  CHECK(matches({{"exit_code", "-1"}}, R"({"exit_code":-1})"));
  CHECK_FALSE(matches({{"exit_code", "0"}}, R"({"exit_code":1})"));
  CHECK(matches({{"exit_code", "1*"}}, R"({"exit_code":137})"));
  CHECK(matches({{"size", "18446744073709551615"}}, R"({"size":18446744073709551615})"));
  CHECK(matches({{"ratio", "1.5"}}, R"({"ratio":1.5})"));
  CHECK(matches({{"ok", "true"}}, R"({"ok":true})"));
  CHECK(matches({{"ok", "false"}}, R"({"ok":false})"));
  CHECK_FALSE(matches({{"ok", "true"}}, R"({"ok":false})"));
  INFO("the string \"0\" matches too: a filter compares text");
  CHECK(matches({{"exit_code", "0"}}, R"({"exit_code":"0"})"));
}

TEST_CASE("a missing, null or object field never matches a filter entry", "[events][filter]") {
  CHECK_FALSE(matches({{"ref", "*"}}, R"({"other":"x"})"));
  CHECK_FALSE(matches({{"ref", "*"}}, R"({"ref":null})"));
  CHECK_FALSE(matches({{"ref", "*"}}, R"({"ref":{"name":"main"}})"));
  CHECK_FALSE(matches({{"ref", "*"}}, "{}"));
  INFO("every entry must match");
  CHECK_FALSE(matches({{"ref", "refs/heads/main"}, {"repository", "acme/app"}}, R"({"ref":"refs/heads/main"})"));
  CHECK(matches({{"ref", "refs/heads/main"}, {"repository", "acme/app"}},
                R"({"ref":"refs/heads/main","repository":"acme/app"})"));
}

TEST_CASE("a filter key is a dot path into nested objects", "[events][filter]") {
  const auto fields = parse(push_payload);
  CHECK(filter_matches({{"repository.full_name", "acme/app"}}, fields));
  CHECK(filter_matches({{"repository.owner.login", "acme"}, {"ref", "refs/heads/main"}}, fields));
  CHECK(filter_matches({{"repository.topics", "web"}}, fields));
  CHECK(filter_matches({{"head_commit.author.username", "octo*"}}, fields));
  CHECK_FALSE(filter_matches({{"repository.full_name", "acme/other"}}, fields));
  CHECK_FALSE(filter_matches({{"repository.owner.email", "*"}}, fields));  // null
  CHECK_FALSE(filter_matches({{"repository.missing", "*"}}, fields));
  CHECK_FALSE(filter_matches({{"ref.name", "*"}}, fields));       // through a string
  CHECK_FALSE(filter_matches({{"commits.id", "*"}}, fields));     // through an array
  CHECK_FALSE(filter_matches({{"full_name", "acme/app"}}, fields));  // only at its path
}

TEST_CASE("env_of_fields names each top-level scalar TETHER_EVENT_ and its upper-cased name, value as text",
          "[events][env]") {
  const auto env = env_of_fields(
      parse(R"({"ref":"refs/heads/main","Build_Number":12,"ok":true,"ratio":1.5,"neg":-3,"tags":["a","b",3]})")
          .as_object());
  const std::map<std::string, std::string> expected{{"TETHER_EVENT_REF", "refs/heads/main"},
                                                    {"TETHER_EVENT_BUILD_NUMBER", "12"},
                                                    {"TETHER_EVENT_OK", "true"},
                                                    {"TETHER_EVENT_RATIO", "1.5"},
                                                    {"TETHER_EVENT_NEG", "-3"},
                                                    {"TETHER_EVENT_TAGS", "a,b,3"}};
  CHECK(env == expected);
}

TEST_CASE("env_of_fields leaves out objects, null, arrays holding objects and names that are not letters, digits "
          "and _",
          "[events][env]") {
  const auto env = env_of_fields(parse(R"({
    "repository": {"full_name": "acme/app"},
    "nothing": null,
    "mixed": ["a", {"b": 1}],
    "nested": [["a"]],
    "with-dash": "x",
    "dotted.name": "x",
    "spaced name": "x",
    "": "x",
    "ünicode": "x",
    "kept": "yes"
  })")
                                     .as_object());
  CHECK(env == std::map<std::string, std::string>{{"TETHER_EVENT_KEPT", "yes"}});

  INFO("a name of 64 characters is kept, one of 65 is not");
  boost::json::object long_names{{std::string(64, 'a'), "x"}, {std::string(65, 'b'), "x"}};
  CHECK(env_of_fields(long_names) == std::map<std::string, std::string>{{"TETHER_EVENT_" + std::string(64, 'A'), "x"}});
}

TEST_CASE("env_of_fields refuses a value holding NUL and keeps shell metacharacters as they are", "[events][env]") {
  boost::json::object fields{{"evil", std::string("before\0after", 12)},
                             {"shell", "$(touch /tmp/x); rm -rf / `id` 'q' \"d\" \n|&>"},
                             {"joined", boost::json::array{"a", std::string("b\0c", 3)}}};
  const auto env = env_of_fields(fields);
  CHECK(env == std::map<std::string, std::string>{{"TETHER_EVENT_SHELL", "$(touch /tmp/x); rm -rf / `id` 'q' \"d\" \n|&>"}});
}

TEST_CASE("env_of_fields keeps values of up to 4096 bytes and leaves out longer ones", "[events][env]") {
  REQUIRE(events::max_env_value_bytes == 4096);
  boost::json::object fields{{"at_cap", std::string(4096, 'x')},
                             {"over_cap", std::string(4097, 'y')},
                             {"joined_over_cap", boost::json::array{std::string(2048, 'a'), std::string(2048, 'b')}}};
  const auto env = env_of_fields(fields);
  CHECK(env == std::map<std::string, std::string>{{"TETHER_EVENT_AT_CAP", std::string(4096, 'x')}});
}

TEST_CASE("env_of_fields makes at most 50 variables, the first 50 fields in the payload's order", "[events][env]") {
  REQUIRE(events::max_env_fields == 50);
  boost::json::object fields;
  fields["skipped_object"] = boost::json::object{};  // not a variable: does not count
  for (int i = 0; i < 80; ++i) fields[fmt::format("f{:02}", i)] = i;
  const auto env = env_of_fields(fields);
  CHECK(env.size() == 50);
  CHECK(env.at("TETHER_EVENT_F00") == "0");
  CHECK(env.at("TETHER_EVENT_F49") == "49");
  CHECK_FALSE(env.count("TETHER_EVENT_F50"));
}

TEST_CASE("github_fields of a push reads ref, branch, sha (after), before, repository, pusher and sender",
          "[events][github]") {
  const auto payload = parse(push_payload).as_object();
  const auto fields = github_fields("push", payload);
  const auto expected = parse(R"({
    "github_event": "push",
    "ref": "refs/heads/main",
    "branch": "main",
    "sha": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    "repository": "acme/app",
    "pusher": "octocat",
    "sender": "octocat",
    "deleted": false
  })");
  INFO(boost::json::serialize(fields));
  CHECK(boost::json::value(fields) == expected);

  INFO("as the run's environment");
  const std::map<std::string, std::string> env{{"TETHER_EVENT_GITHUB_EVENT", "push"},
                                               {"TETHER_EVENT_REF", "refs/heads/main"},
                                               {"TETHER_EVENT_BRANCH", "main"},
                                               {"TETHER_EVENT_SHA", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"},
                                               {"TETHER_EVENT_BEFORE", "6113728f27ae82c7b1a177c8d03f9e96e0adf246"},
                                               {"TETHER_EVENT_REPOSITORY", "acme/app"},
                                               {"TETHER_EVENT_PUSHER", "octocat"},
                                               {"TETHER_EVENT_SENDER", "octocat"},
                                               {"TETHER_EVENT_DELETED", "false"}};
  CHECK(env_of_fields(fields) == env);
}

TEST_CASE("github_fields of a tag push has the tag and no branch; a branch deletion says deleted", "[events][github]") {
  auto payload = parse(push_payload).as_object();
  payload["ref"] = "refs/tags/v1.2.0";
  auto fields = github_fields("push", payload);
  CHECK(fields.at("tag") == "v1.2.0");
  CHECK_FALSE(fields.contains("branch"));

  payload["ref"] = "refs/heads/old-feature";
  payload["after"] = "0000000000000000000000000000000000000000";
  payload["deleted"] = true;
  payload["head_commit"] = nullptr;
  fields = github_fields("push", payload);
  CHECK(fields.at("branch") == "old-feature");
  CHECK(fields.at("deleted").as_bool());
}

TEST_CASE("github_fields of other events: the sha falls back to head_commit.id, then the pull request's head; action "
          "is read",
          "[events][github]") {
  auto payload = parse(push_payload).as_object();
  payload.erase("after");
  CHECK(github_fields("push", payload).at("sha") == "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");

  const auto pull_request = parse(R"({
    "action": "opened",
    "number": 7,
    "pull_request": {"head": {"ref": "feature", "sha": "4f2c4a1d8e2b4d5e9f00aa11bb22cc33dd44ee55"}},
    "repository": {"full_name": "acme/app"},
    "sender": {"login": "hubot"}
  })")
                                  .as_object();
  const auto fields = github_fields("pull_request", pull_request);
  CHECK(fields.at("github_event") == "pull_request");
  CHECK(fields.at("action") == "opened");
  CHECK(fields.at("sha") == "4f2c4a1d8e2b4d5e9f00aa11bb22cc33dd44ee55");
  CHECK(fields.at("repository") == "acme/app");
  CHECK(fields.at("sender") == "hubot");
  CHECK_FALSE(fields.contains("ref"));
  CHECK_FALSE(fields.contains("branch"));
  CHECK_FALSE(fields.contains("pusher"));

  INFO("a ping has only its event name");
  CHECK(boost::json::value(github_fields("ping", parse(R"({"zen":"Keep it logically awesome.","hook_id":1})").as_object())) ==
        parse(R"({"github_event":"ping"})"));
}
