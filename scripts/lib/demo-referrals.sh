# Demo data of the referral plugin (sourced by scripts/demo.sh): the simulator's two
# referral parties in the receiver directory, and one referral from the simulated hospital
# in the clinic's incoming list. DEMO ONLY.
seed_referrals() {
  local url="${1%/}" password="$2" sim="$3" sim_https="$4"
  local jar csrf
  jar="$(mktemp)"
  csrf="$(curl -sk -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"username\":\"demo\",\"password\":\"$password\"}" "$url/api/v1/auth/login" | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')"
  [ -n "$csrf" ] || { echo "login as demo failed"; return 1; }
  local csv="hsaIdentity;displayName;receives;endpointUrl;contractVersion\\n"
  csv+="SE2321000016-RAD1;Röntgen, Sjukhuset i Staden;röntgen, ultraljud;$sim_https/referral/SE2321000016-RAD1/ProcessRequest;2.2\\n"
  csv+="SE2321000016-FYS1;Fysioterapin Väster;fysioterapi;$sim_https/referral/SE2321000016-FYS1/ProcessRequest;3.0\\n"
  curl -sfk -b "$jar" -X POST -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" \
    -d "{\"format\":\"csv\",\"content\":\"$csv\"}" "$url/api/v1/referral/receivers/import" >/dev/null \
    || { echo "the receiver directory could not be imported"; return 1; }
  curl -sf -X POST -H 'Content-Type: application/json' \
    -d '{"from":"SE2321000016-RAD1","to":"SE2321000016-DEMO","patient":"197005051235","question":"Uppföljning efter fraktur, fysioterapi?"}' \
    "$sim/sim/api/referral/send" >/dev/null || { echo "the simulator could not send a referral"; return 1; }
  rm -f "$jar"
  echo "  Referrals: page Remisser (write one to Röntgen; it comes back confirmed and answered),"
  echo "             one incoming referral from the simulated hospital; Remissmottagare: the directory."
}
