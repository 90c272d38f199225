# The demo clinic, created through the box's API as the demo admin (nothing bypasses it):
# a unit, practitioners, visit types and schedules open every day (so the demo works any
# time), today's bookings for the demo patients, and their cards in the simulator.
# Prints what to try. Safe to run again: what exists is left as it is.
# shellcheck shell=bash

seed_demo() {
  local url="${1%/}" password="$2" sim="$3"
  local jar csrf
  jar="$(mktemp)"
  csrf="$(curl -sk -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"username\":\"demo\",\"password\":\"$password\"}" "$url/api/v1/auth/login" | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')"
  [ -n "$csrf" ] || { echo "login as demo failed"; return 1; }
  api() {  # METHOD PATH [BODY]: prints the body; 409 (exists) is fine
    local out code
    out="$(curl -sk -b "$jar" -w '\n%{http_code}' -X "$1" -H 'Content-Type: application/json' -H "X-CSRF-Token: $csrf" \
      ${3:+-d "$3"} "$url$2")"
    code="${out##*$'\n'}"
    out="${out%$'\n'*}"
    case "$code" in 2*|409) printf '%s' "$out" ;; *) echo "$1 $2 answered $code: $out" >&2; return 1 ;; esac
  }
  local unit=SE2321000016-DEMO
  api POST /api/v1/booking/units "{\"hsa_id\":\"$unit\",\"name\":\"Demo vårdcentral\",\"address\":\"Storgatan 1, Umeå\"}" >/dev/null
  api POST /api/v1/booking/rooms "{\"unit\":\"$unit\",\"name\":\"Rum 3\"}" >/dev/null
  api POST /api/v1/booking/practitioners "{\"hsa_id\":\"SE2321000016-D001\",\"name\":\"Eva Ek\",\"profession\":\"läkare\",\"unit\":\"$unit\"}" >/dev/null
  api POST /api/v1/booking/practitioners "{\"hsa_id\":\"SE2321000016-D002\",\"name\":\"Omar Al-Hassan\",\"profession\":\"läkare\",\"unit\":\"$unit\"}" >/dev/null
  api POST /api/v1/booking/practitioners "{\"hsa_id\":\"SE2321000016-D003\",\"name\":\"Sara Lind\",\"profession\":\"sjuksköterska\",\"unit\":\"$unit\"}" >/dev/null
  api POST /api/v1/booking/visittypes '{"id":"lak30","name":"Läkarbesök","visit_form":"physical","minutes":30,"profession":"läkare","time_type_id":"1","time_type_name":"Läkarbesök","vip_bookable":true}' >/dev/null
  api POST /api/v1/booking/visittypes '{"id":"video20","name":"Videobesök läkare","visit_form":"video","minutes":20,"profession":"läkare","time_type_id":"2","time_type_name":"Videobesök"}' >/dev/null
  api POST /api/v1/booking/visittypes '{"id":"ssk20","name":"Sjuksköterskebesök","visit_form":"physical","minutes":20,"profession":"sjuksköterska","time_type_id":"3","time_type_name":"Sjuksköterskebesök"}' >/dev/null
  local all='"weekdays":[1,2,3,4,5,6,7],"start":"00:00","end":"24:00","valid_from":"2026-01-01","valid_to":"2099-12-31"'
  local room
  room="$(api GET /api/v1/booking/setup | grep -o '"id":[0-9]*,"name":"Rum 3"' | head -n1 | sed 's/"id":\([0-9]*\).*/\1/')"
  api POST /api/v1/booking/schedules "{\"practitioner\":\"SE2321000016-D001\",\"visit_type\":\"lak30\",${room:+\"room_id\":$room,}$all}" >/dev/null
  api POST /api/v1/booking/schedules "{\"practitioner\":\"SE2321000016-D002\",\"visit_type\":\"video20\",$all}" >/dev/null
  api POST /api/v1/booking/schedules "{\"practitioner\":\"SE2321000016-D003\",\"visit_type\":\"ssk20\",$all}" >/dev/null

  # Today's bookings at the next free time (inside the kiosk's check-in window).
  local today first
  today="$(date +%F)"
  book() {  # PATIENT PRACTITIONER [PHONE]
    if api GET "/api/v1/booking/patients/$1/schedule" | grep -q "\"startTimeInclusive\":\"$today"; then return 0; fi
    first="$(api GET "/api/v1/booking/timeslots?unit=$unit&date=$today&practitioner=$2" | grep -o '"slot_id":[0-9]*' | head -n1 | cut -d: -f2)"
    [ -n "$first" ] || { echo "no free time today for $2 (the demo clinic is open until midnight)" >&2; return 0; }
    api POST /api/v1/booking/bookings "{\"slot_id\":$first,\"patient\":\"$1\"${3:+,\"phone\":\"$3\"}}" >/dev/null
  }
  book 199001012385 SE2321000016-D001 0701234567
  book 198507099805 SE2321000016-D001
  book 193803031230 SE2321000016-D003
  book 197005051235 SE2321000016-D002 0707654321
  # In the simulator: one patient already has a frikort, one is close to the ceiling;
  # Swish payments are approved by themselves four seconds after the request (e-commerce)
  # or after the QR code was "scanned" on the simulator's page (m-commerce); Swish's
  # callbacks to port 443 are forwarded to the demo box's port.
  curl -sf -X PUT -H 'Content-Type: application/json' -d '{"status":"FINAL"}' "$sim/sim/api/efrikort/persons/198507099805" >/dev/null
  curl -sf -X PUT -H 'Content-Type: application/json' -d '{"accumulated_ore":135000}' "$sim/sim/api/efrikort/persons/197005051235" >/dev/null
  curl -sf -X POST -H 'Content-Type: application/json' -d '{"status":"PAID","delay_ms":4000}' "$sim/sim/api/swish/auto" >/dev/null
  curl -sf -X POST -H 'Content-Type: application/json' -d "{\"port\":${url##*:}}" "$sim/sim/api/swish/callback-port" >/dev/null
  curl -sf -X POST -H 'Content-Type: application/json' -d '{"personalNumber":"197005051235","name":"Anna Andersson"}' "$sim/sim/api/bankid/next" >/dev/null
  rm -f "$jar"
  cat <<TXT
  Demo patients with a time today (check in at the kiosk within an hour before it):
    19900101-2385  pays 300 kr with Swish: the kiosk shows a QR code; "scan" it on the
                   simulator's page ($sim/), and it is approved 4 s later (or type a mobile
                   number, approved after 4 s); the fee is registered in e-frikort
    19850709-9805  has a frikort in e-frikort: pays 0 kr
    19380303-1230  is 85 or older: free by the region's rules
    19700505-1235  video visit (Videobesök in the console: admit the patient; the patient's
                   join link is under the visit; BankID in the simulator answers as this
                   patient); 100 kr left to the ceiling in e-frikort
TXT
}
