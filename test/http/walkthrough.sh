#!/usr/bin/env bash
# The README walkthrough, step for step (test/http/walkthrough.e2e.test.ts runs it): a fresh
# directory, the service on the embedded default, a user made with the CLI, a login with curl,
# /api/whoami/, a revocation, and the same call again.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
tokenledger() { node "$REPO/bin/run.js" "$@"; }
PORT="${PORT:-8000}"
BASE="http://127.0.0.1:$PORT"

cd "$(mktemp -d)"
echo "# in $(pwd)"

if curl -s -o /dev/null "$BASE/healthz"; then echo "something already listens on port $PORT"; exit 1; fi

# 1. Start the service (SQLite log in ./data, memory projection), in the background.
PORT=$PORT node "$REPO/bin/run.js" serve > serve.log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -fsS "$BASE/readyz" > /dev/null 2>&1; do
  kill -0 $SERVER 2> /dev/null || { echo "serve exited"; cat serve.log; exit 1; }
  sleep 0.2
done

# 2. Create a user with the CLI (the password comes from stdin, never from a flag).
echo 'wonderland-123' | tokenledger user create alice --password-stdin

# 3. Log in with curl: DRF's obtain_auth_token, a new login token each time.
curl -fsS -X POST "$BASE/api-token-auth/" -H 'Content-Type: application/json' \
  -d '{"username": "alice", "password": "wonderland-123"}' | tee login.json
echo
TOKEN=$(node -p 'JSON.parse(require("fs").readFileSync("login.json", "utf8")).token')

# 4. Call the API with it.
curl -fsS "$BASE/api/whoami/" -H "Authorization: Token $TOKEN"
echo

# 5. Revoke it (Knox's logout: the presented token), then call again: 401.
curl -fsS -X POST "$BASE/auth/logout/" -H "Authorization: Token $TOKEN" -o /dev/null -w 'logout: %{http_code}\n'
STATUS=$(curl -sS -o again.json -w '%{http_code}' "$BASE/api/whoami/" -H "Authorization: Token $TOKEN")
echo "again: $STATUS $(cat again.json)"
test "$STATUS" = 401

# 6. Stop the service: SIGTERM finishes requests in flight and exits 0.
kill -TERM $SERVER
wait $SERVER
echo "serve exited with $?"
