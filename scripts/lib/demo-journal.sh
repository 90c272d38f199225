# Shared journal access in the demo: today's bookings (the patient relationship) for the
# simulator's three journal patients, so staff can try consent, a block (spärr) and a
# patient without consent. Prints what to try. Safe to run again.
# shellcheck shell=bash

seed_journal() {
  local url="${1%/}" password="$2"
  local jar csrf unit=SE2321000016-DEMO today
  jar="$(mktemp)"
  csrf="$(curl -sk -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"username\":\"demo\",\"password\":\"$password\"}" "$url/api/v1/auth/login" | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')"
  [ -n "$csrf" ] || { echo "login as demo failed"; return 1; }
  japi() {  # METHOD PATH [BODY]
    curl -sk -b "$jar" -X "$1" -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" ${3:+-d "$3"} "$url$2"
  }
  today="$(date +%F)"
  for patient in 195003072385 196801149888 197512303442; do
    if japi GET "/api/v1/booking/patients/$patient/schedule" | grep -q "\"startTimeInclusive\":\"$today"; then continue; fi
    slot="$(japi GET "/api/v1/booking/timeslots?unit=$unit&date=$today&practitioner=SE2321000016-D001" | grep -o '"slot_id":[0-9]*' | head -n1 | cut -d: -f2)"
    [ -n "$slot" ] && japi POST /api/v1/booking/bookings "{\"slot_id\":$slot,\"patient\":\"$patient\"}" >/dev/null
  done
  rm -f "$jar"
  cat <<TXT
  Shared journal (log in as personal, menu "Sammanhållen journal", choose the unit):
    19500307-2385  consent: notes from three systems, one hidden for lack of an accountable unit
    19680114-9888  consent, but the psychiatry unit is blocked: "Det finns spärrad information"
    19751230-3442  no consent: register consent, or open with emergency access (shown in red)
  Log review and the patient's log extract: the auditor account, menu "Loggkontroll journal".
TXT
}
