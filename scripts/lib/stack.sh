# shellcheck shell=bash
# A running controller + agent pair and the REST calls that wire them together, shared by
# `./dev.sh up` (TLS, kept in .tether) and `./dev.sh bench` (plain HTTP, thrown away).
# Source after common.sh and processes.sh, and set:
#   CONTROLLER_BIN, AGENT_BIN  absolute paths of the binaries
#   API_URL                    the controller's base URL, e.g. https://127.0.0.1:8443
#   API_CURL_TLS               curl arguments for TLS, e.g. (--cacert FILE), or () for HTTP

# SERVER_ID and AGENT_TOKEN are outputs read by the callers.
# shellcheck disable=SC2034

# api_call METHOD PATH BEARER [JSON]: sets API_STATUS (000 when the controller cannot be reached)
# and API_BODY. The bearer secret reaches curl through stdin, not its command line, so that it
# never shows in `ps`.
api_call() {
  local method=$1 path=$2 bearer=$3 body=${4-}
  local args=(--silent --show-error --max-time 30 -X "$method" -H @- -w '\n%{http_code}' "${API_CURL_TLS[@]}")
  if [[ -n $body ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  local response
  response=$(printf 'Authorization: Bearer %s\n' "$bearer" | curl "${args[@]}" "$API_URL$path") || true
  API_STATUS=${response##*$'\n'}
  API_BODY=${response%$'\n'*}
  [[ $API_STATUS =~ ^[0-9]{3}$ ]] || API_STATUS=000
}

# api_expect STATUS METHOD PATH BEARER [JSON]: api_call that dies unless the answer has STATUS.
api_expect() {
  local expected=$1
  shift
  api_call "$@"
  if [[ $API_STATUS != "$expected" ]]; then
    die "$1 $2 answered $API_STATUS (expected $expected): $API_BODY"
  fi
}

# stack_wait_healthy RUN_DIR LOG_DIR SECONDS: waits for GET /api/health to answer 200, and gives up
# early when the controller process has exited.
stack_wait_healthy() {
  local run_dir=$1 log_dir=$2 seconds=$3 tick status
  for ((tick = 0; tick < seconds * 5; tick++)); do
    status=$(curl --silent --max-time 2 -o /dev/null -w '%{http_code}' "${API_CURL_TLS[@]}" "$API_URL/api/health" || true)
    [[ $status == 200 ]] && return 0
    if ! daemon_running "$run_dir" controller "$CONTROLLER_BIN"; then
      show_log_tails "$log_dir/controller.log"
      die "the controller exited before answering $API_URL/api/health"
    fi
    sleep 0.2
  done
  show_log_tails "$log_dir/controller.log"
  die "the controller did not answer $API_URL/api/health within $seconds s"
}

# stack_create_admin_key DATABASE_URL NAME: prints a new `tak_` admin key made by the controller's CLI.
stack_create_admin_key() {
  local database_url=$1 name=$2 key
  key=$("$CONTROLLER_BIN" admin create-key --name "$name" --role admin --database-url "$database_url" --log-level warn)
  [[ $key =~ ^tak_[0-9a-f]{64}$ ]] || die "'tether-controller admin create-key' printed no tak_ key"
  printf '%s\n' "$key"
}

# stack_create_server ADMIN_KEY NAME: registers a server; sets SERVER_ID and AGENT_TOKEN.
stack_create_server() {
  local admin_key=$1 name=$2 body
  body=$(jq -cn --arg name "$name" '{name: $name, tags: ["dev"]}')
  api_expect 201 POST /api/servers "$admin_key" "$body"
  SERVER_ID=$(jq -r '.id' <<<"$API_BODY")
  AGENT_TOKEN=$(jq -r '.agent_token' <<<"$API_BODY")
  [[ $AGENT_TOKEN =~ ^tat_[0-9a-f]{64}$ ]] || die "POST /api/servers returned no tat_ agent token"
}

# stack_create_automation_key ADMIN_KEY NAME SERVER_ID [RATE_PER_MINUTE]: prints a new `rca_` key
# allowed every operation on SERVER_ID (rate limit default 100 requests a minute, at most 1000).
stack_create_automation_key() {
  local admin_key=$1 name=$2 server_id=$3 rate=${4:-100} body key
  body=$(jq -cn --arg name "$name" --arg server "$server_id" --argjson rate "$rate" \
    '{name: $name, allowed_server_ids: [$server], allowed_operations: [], expires_at: null,
      rate_limit_per_minute: $rate}')
  api_expect 201 POST /api/automation-keys "$admin_key" "$body"
  key=$(jq -r '.key' <<<"$API_BODY")
  [[ $key =~ ^rca_[0-9a-f]{64}$ ]] || die "POST /api/automation-keys returned no rca_ key"
  printf '%s\n' "$key"
}

# stack_start_controller RUN_DIR LOG_DIR LISTEN DATABASE_URL [FLAG...]: starts (or keeps, see
# daemon_ensure) the controller serving on LISTEN.
stack_start_controller() {
  local run_dir=$1 log_dir=$2 listen=$3 database_url=$4
  shift 4
  daemon_ensure "$run_dir" "$log_dir" controller "" "$CONTROLLER_BIN" \
    serve --listen "$listen" --database-url "$database_url" "$@"
}

# stack_start_agent RUN_DIR LOG_DIR TOKEN STATE_DIR [FLAG...]: starts (or keeps) the agent
# dialling API_URL. The token travels in the agent's environment, not on its command line.
stack_start_agent() {
  local run_dir=$1 log_dir=$2 token=$3 state_dir=$4
  shift 4
  mkdir -p "$state_dir"
  chmod 700 "$state_dir"
  TETHER_TOKEN=$token daemon_ensure "$run_dir" "$log_dir" agent "$token" "$AGENT_BIN" \
    --controller "$API_URL" --state-dir "$state_dir" "$@"
}

# stack_wait_server_active RUN_DIR LOG_DIR ADMIN_KEY SERVER_ID SECONDS: waits until the server
# reads `active` and connected, and gives up early when the agent process has exited.
stack_wait_server_active() {
  local run_dir=$1 log_dir=$2 admin_key=$3 server_id=$4 seconds=$5 tick
  for ((tick = 0; tick < seconds * 5; tick++)); do
    api_call GET "/api/servers/$server_id" "$admin_key"
    if [[ $API_STATUS == 200 ]] &&
      jq -e '.status == "active" and .connected != false' >/dev/null <<<"$API_BODY"; then
      return 0
    fi
    if ! daemon_running "$run_dir" agent "$AGENT_BIN"; then
      show_log_tails "$log_dir/agent.log"
      die "the agent exited before its server became active"
    fi
    sleep 0.2
  done
  show_log_tails "$log_dir/agent.log" "$log_dir/controller.log"
  die "server $server_id did not become active within $seconds s (last answer $API_STATUS: $API_BODY)"
}

# stack_stop RUN_DIR: stops the agent, then the controller.
stack_stop() {
  local run_dir=$1
  daemon_stop "$run_dir" agent "$AGENT_BIN"
  daemon_stop "$run_dir" controller "$CONTROLLER_BIN"
}
