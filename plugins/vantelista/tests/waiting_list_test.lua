-- Offline tests: `klinikbox lua test plugins/vantelista`. Each case runs in a fresh
-- throwaway box (empty tables, clock at 2026-01-15 12:00 UTC).
local UNIT = "SE2321000016-VC01"
local DR = "SE2321000016-DR01"

local function add(patient, phone, extra)
  local body = { patient = patient, phone = phone, care_unit = UNIT }
  for k, v in pairs(extra or {}) do body[k] = v end
  local r = kb.request("POST", "/entries", { json = body, as = "staff" })
  kb.assert_eq(r.status, 201, "adding " .. patient)
  return r.json.id
end

local function cancel(booking_id, start, extra)
  local p = { booking_id = booking_id, care_unit = UNIT, practitioner = DR, visit_type = "besok",
              start = start or "2026-01-20T09:30:00+01:00", slot_id = 77 }
  for k, v in pairs(extra or {}) do p[k] = v end
  kb.fire("booking.cancelled", p)
end

kb.test("a cancelled slot is offered by SMS to the patient longest on the list", function()
  add("19121212-1212", "070-111 11 11")
  add("20080808-2382", "070-222 22 22")
  cancel(501)
  local sent = kb.sent()
  kb.assert_eq(#sent, 1)
  kb.assert_eq(sent[1].channel, "vantelista.sms")
  kb.assert_eq(sent[1].payload.to, "+46701111111")
  kb.assert_true(string.find(sent[1].payload.text, "20/1 kl. 09:30", 1, true), sent[1].payload.text)
  kb.assert_eq(sent[1].idempotency_key, "offer-1")
  local offers = kb.request("GET", "/offers", { as = "staff" }).json.offers
  kb.assert_eq(#offers, 1)
  kb.assert_eq(offers[1].slot_id, 77)
end)

kb.test("the SMS says the slot's Swedish time and a past slot is not offered, whatever offset the start has", function()
  add("19121212-1212", "070-111 11 11")
  add("20080808-2382", "070-222 22 22")
  cancel(511, "2026-01-15T11:59:00Z")  -- a minute before the clock (12:00 UTC), 12:59 in Stockholm
  cancel(512, "not a time")
  kb.assert_eq(#kb.sent(), 0, "a slot that has started, or a start that is no time, is not offered")
  cancel(513, "2026-01-15T12:30:00Z")  -- in half an hour: 13:30 in Stockholm
  cancel(514, "2026-07-20T07:30:00Z")  -- summer time: 09:30 in Stockholm
  local sent = kb.sent()
  kb.assert_eq(#sent, 2)
  kb.assert_true(string.find(sent[1].payload.text, "15/1 kl. 13:30", 1, true), sent[1].payload.text)
  kb.assert_true(string.find(sent[2].payload.text, "20/7 kl. 09:30", 1, true), sent[2].payload.text)
end)

kb.test("a patient's latest day is a Swedish day, whatever offset the slot's start has", function()
  add("19121212-1212", "070-111 11 11", { latest = "2026-01-20" })
  cancel(521, "2026-01-20T23:30:00Z")  -- 00:30 on the 21st in Stockholm: after the latest day
  kb.assert_eq(#kb.sent(), 0, "a slot on the 21st is not offered to a patient who can come until the 20th")
  cancel(522, "2026-01-20T22:30:00Z")  -- 23:30 on the 20th
  kb.assert_eq(#kb.sent(), 1)
end)

kb.test("only a patient the slot suits is offered it", function()
  add("19121212-1212", "070-111 11 11", { visit_type = "rontgen" })
  add("20080808-2382", "070-222 22 22", { practitioner = "SE2321000016-DR99" })
  add("19820101-2385", "070-333 33 33", { latest = "2026-01-19" })
  cancel(502)
  kb.assert_eq(#kb.sent(), 0, "nobody on the list wants this slot")
  add("19900101-0017", "0703333444")
  cancel(503)
  kb.assert_eq(kb.sent()[1].payload.to, "+46703333444")
end)

kb.test("an offer expires after offer_minutes and the slot goes to the next patient", function()
  add("19121212-1212", "070-111 11 11")
  add("20080808-2382", "070-222 22 22")
  cancel(504)
  local offered = kb.now()
  kb.set_now(offered + 119 * 60)  -- offer_minutes is 120 by default
  kb.assert_eq(kb.run_due(), 1, "the timer runs every minute")
  kb.assert_eq(#kb.sent(), 1, "not yet expired")
  kb.set_now(offered + 121 * 60)
  kb.run_due()
  local sent = kb.sent()
  kb.assert_eq(#sent, 2)
  kb.assert_eq(sent[2].payload.to, "+46702222222")
  local r = kb.request("POST", "/offers/1/accept", { as = "staff" })
  kb.assert_eq(r.status, 409, "the first offer expired")
  kb.assert_eq(r.json.type, "/problems/offer-closed")
end)

-- The booking plugin's side of booking.book, as it answers in the box (see
-- tests/integration/VantelistaServerTest.cpp for the real one).
local function booking_answers(requests)
  kb.answer("booking.book", function(p)
    requests[#requests + 1] = p
    p.booking_id = 900
    p.status = "booked"
    return p
  end)
end

kb.test("accepting an open offer books the slot for the patient and takes them off the list", function()
  local requests = {}
  booking_answers(requests)
  add("19121212-1212", "070-111 11 11")
  cancel(505)
  local r = kb.request("POST", "/offers/1/accept", { as = "staff" })
  kb.assert_eq(r.status, 200)
  kb.assert_eq(r.json.state, "accepted")
  kb.assert_eq(r.json.booking_id, 900)
  kb.assert_eq(#requests, 1)
  kb.assert_eq(requests[1].slot_id, 77)
  kb.assert_eq(requests[1].patient, "191212121212")
  kb.assert_eq(requests[1].idempotency_key, "vantelista-offer-1", "one booking per offer, however often it is asked")
  local ev = kb.published()
  kb.assert_eq(#ev, 1)
  kb.assert_eq(ev[1].name, "vantelista.offer.accepted")
  kb.assert_eq(ev[1].payload.booking_id, 900)
  kb.assert_eq(#kb.request("GET", "/entries", { as = "staff" }).json.entries, 0, "booked patients leave the list")
  kb.assert_eq(kb.request("POST", "/offers/1/accept", { as = "staff" }).status, 409, "accepted once")
  kb.assert_eq(#requests, 1)
  kb.set_now(kb.now() + 6 * 3600)
  kb.run_due()
  kb.assert_eq(#kb.sent(), 1, "an accepted offer never expires")
end)

kb.test("a slot booked meanwhile is a 409 and the patient keeps their place", function()
  kb.answer("booking.book", function(p)
    p.problem = { type = "/problems/slot-taken", title = "Tiden är redan bokad", status = 409, detail = "taken" }
    return p
  end)
  add("19121212-1212", "070-111 11 11")
  add("20080808-2382", "070-222 22 22")
  cancel(508)
  local r = kb.request("POST", "/offers/1/accept", { as = "staff" })
  kb.assert_eq(r.status, 409)
  kb.assert_eq(r.json.type, "/problems/slot-taken")
  local entries = kb.request("GET", "/entries", { as = "staff" }).json.entries
  kb.assert_eq(entries[1].state, "waiting", "first in line for the next cancellation")
  kb.assert_eq(#kb.request("GET", "/offers", { as = "staff" }).json.offers, 0, "the offer is closed")
  kb.assert_eq(#kb.sent(), 1, "a taken slot is not offered to anyone else")
  kb.assert_eq(#kb.published(), 0)
end)

kb.test("a refused booking or a booking plugin that does not answer leaves the offer open", function()
  add("19121212-1212", "070-111 11 11")
  cancel(509)
  local r = kb.request("POST", "/offers/1/accept", { as = "staff" })
  kb.assert_eq(r.status, 503, "nobody answered booking.book")
  kb.assert_eq(r.json.type, "/problems/booking-unavailable")
  kb.answer("booking.book", function() return nil, "no bookings on Sundays" end)
  r = kb.request("POST", "/offers/1/accept", { as = "staff" })
  kb.assert_eq(r.status, 422)
  kb.assert_true(string.find(r.json.detail, "Sundays", 1, true), r.json.detail)
  kb.assert_eq(#kb.request("GET", "/offers", { as = "staff" }).json.offers, 1, "still open")
end)

kb.test("a declined offer goes to the next patient at once", function()
  add("19121212-1212", "070-111 11 11")
  add("20080808-2382", "070-222 22 22")
  cancel(506)
  kb.assert_eq(kb.request("POST", "/offers/1/decline", { as = "staff" }).status, 200)
  kb.assert_eq(kb.sent()[2].payload.to, "+46702222222")
  local entries = kb.request("GET", "/entries", { as = "staff" }).json.entries
  kb.assert_eq(entries[1].state, "waiting", "the first patient keeps their place")
end)

kb.test("staff only, and bad input is a 400 problem", function()
  kb.assert_eq(kb.request("GET", "/entries", { as = false }).status, 401)
  kb.assert_eq(kb.request("GET", "/entries", { as = "auditor" }).status, 403)
  local r = kb.request("POST", "/entries", { json = { patient = "19121212-1213", phone = "070", care_unit = UNIT }, as = "staff" })
  kb.assert_eq(r.status, 400)
  kb.assert_true(string.find(r.json.detail, "patient", 1, true))
  r = kb.request("POST", "/entries", { json = { patient = "19121212-1212", phone = "12", care_unit = UNIT }, as = "staff" })
  kb.assert_eq(r.status, 400)
  kb.assert_true(string.find(r.json.detail, "phone", 1, true))
  for _, day in ipairs({ "2026-02-31", "2026-13-01", "20260131" }) do
    r = kb.request("POST", "/entries", { json = { patient = "19121212-1212", phone = "070-111 11 11", care_unit = UNIT,
                                                 latest = day }, as = "staff" })
    kb.assert_eq(r.status, 400, day)
    kb.assert_true(string.find(r.json.detail, "latest", 1, true), r.json.detail)
  end
end)

kb.test("a slot in the past is not offered", function()
  add("19121212-1212", "070-111 11 11")
  cancel(507, "2026-01-14T09:00:00+01:00")
  kb.assert_eq(#kb.sent(), 0)
end)

kb.test("a query parameter the route does not declare is refused, not ignored", function()
  kb.assert_eq(kb.request("GET", "/entries?care_unit=" .. UNIT, { as = "staff" }).status, 200)
  local r = kb.request("GET", "/entries?unit=" .. UNIT, { as = "staff" })
  kb.assert_eq(r.status, 400)
  kb.assert_true(string.find(r.problem, "unit", 1, true), r.problem)
end)

kb.test("a query parameter given twice is refused, as the box refuses it", function()
  kb.assert_eq(kb.request("GET", "/entries", { as = "staff" }).status, 200)
  kb.assert_eq(kb.request("GET", "/entries?care_unit=A", { as = "staff" }).status, 200)
  local r = kb.request("GET", "/entries?care_unit=A&care_unit=B", { as = "staff" })
  kb.assert_eq(r.status, 400)
  kb.assert_eq(r.problem, "a query parameter is given more than once")
  kb.assert_eq(kb.request("GET", "/entries?care_unit=A&care_unit=B", { as = "auditor" }).status, 403, "the role is refused first")
end)

kb.test("an id in a path is a whole number, not whatever tonumber reads as one", function()
  local id = add("19121212-1212", "070-111 11 11")
  kb.assert_eq(id, 1)
  for _, bad in ipairs({ "1.0000000000000001", "%20%201", "0x1", "1e0", "01", "-1" }) do
    kb.assert_eq(kb.request("DELETE", "/entries/" .. bad, { as = "staff" }).status, 400, bad)
    kb.assert_eq(kb.request("POST", "/offers/" .. bad .. "/decline", { as = "staff" }).status, 400, bad)
  end
  kb.assert_eq(#kb.request("GET", "/entries", { as = "staff" }).json.entries, 1, "nothing was removed")
  kb.assert_eq(kb.request("DELETE", "/entries/1", { as = "staff" }).status, 204)
  kb.assert_eq(kb.request("DELETE", "/entries/1", { as = "staff" }).status, 404, "once")
end)

kb.test("a practitioner is an HSA-id and the latest day has not passed", function()
  local body = { patient = "19121212-1212", phone = "070-111 11 11", care_unit = UNIT }
  body.practitioner = "\u{202e}x"
  kb.assert_eq(kb.request("POST", "/entries", { json = body, as = "staff" }).status, 400)
  body.practitioner = DR
  body.latest = "2026-01-14"  -- the clock stands at 2026-01-15
  local r = kb.request("POST", "/entries", { json = body, as = "staff" })
  kb.assert_eq(r.status, 400)
  kb.assert_true(string.find(r.json.detail, "latest", 1, true), r.json.detail)
  body.latest = "2026-01-15"
  kb.assert_eq(kb.request("POST", "/entries", { json = body, as = "staff" }).status, 201, "today is not past")
end)

kb.test("kb.set_config gets the schema's defaults and its checks, as the box's settings page", function()
  kb.set_config({ clinic_phone = "090-12 34 56" })
  kb.assert_eq(kb.config("clinic_phone"), "090-12 34 56")
  kb.assert_true(kb.config("offer_minutes") ~= nil, "a setting not given has its default")
  local ok, err = pcall(kb.set_config, { offer_minutes = "lots" })
  kb.assert_eq(ok, false)
  kb.assert_true(string.find(tostring(err), "offer_minutes", 1, true), tostring(err))
  kb.assert_eq(pcall(kb.set_config, { unknown_setting = 1 }), false, "an unknown setting")
end)
