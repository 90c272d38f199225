-- A video visit for a minor needs a guardian (vårdnadshavare): booking.requested is
-- refused unless payload.guardian holds the personnummer of an adult. The age counts on
-- the day of the visit (payload.start), not the day of booking.
--
-- Payload fields read: patient (12-digit personnummer), visit_form, start
-- ("YYYY-MM-DDTHH:MM:SS+01:00"), guardian (personnummer, optional).

local function visit_day(p)
  return string.match(p.start or "", "^(%d%d%d%d%-%d%d%-%d%d)") or kb.today()
end

kb.on("booking.requested", { phase = "validate" }, function(event)
  local p = event.payload
  if p.visit_form ~= "video" then return end
  local day = visit_day(p)
  local age, err = kb.pnr.age(p.patient or "", day)
  if not age then
    kb.reject("Patientens personnummer är ogiltigt (" .. err .. ")")
  end
  if age >= 18 then return end
  if not p.guardian then
    kb.reject("Ett videobesök för ett barn under 18 år kräver en vårdnadshavare. Ange vårdnadshavarens personnummer.")
  end
  local guardian_age = kb.pnr.age(p.guardian, day)
  if not guardian_age then
    kb.reject("Vårdnadshavarens personnummer är ogiltigt")
  end
  if guardian_age < 18 then
    kb.reject("Vårdnadshavaren måste vara myndig")
  end
  kb.log.info("videobesök för minderårig med vårdnadshavare " .. kb.pnr.mask(p.guardian))
end)

-- Tests: `klinikbox lua test guardian.lua` (the test clock says 2026-01-15)

local CHILD = "201212121212"     -- 13 years old in 2026
local ADULT = "191212121212"
local TEEN = "20080120-2383"      -- turns 18 on 2026-01-20

local function video(fields)
  local p = { patient = CHILD, visit_form = "video", start = "2026-01-20T10:00:00+01:00" }
  for k, v in pairs(fields or {}) do p[k] = v end
  return p
end

kb.test("a child's video visit without a guardian is refused", function()
  local r = kb.fire("booking.requested", video())
  kb.assert_true(r.vetoed)
  kb.assert_true(string.find(r.reason, "vårdnadshavare", 1, true))
end)

kb.test("with an adult guardian it is booked", function()
  local r = kb.fire("booking.requested", video({ guardian = ADULT }))
  kb.assert_false(r.vetoed)
  kb.assert_eq(r.payload.guardian, ADULT)
end)

kb.test("a guardian must be an adult with a valid personnummer", function()
  kb.assert_eq(kb.fire("booking.requested", video({ guardian = CHILD })).reason, "Vårdnadshavaren måste vara myndig")
  kb.assert_eq(kb.fire("booking.requested", video({ guardian = "19121212-1213" })).reason,
               "Vårdnadshavarens personnummer är ogiltigt")
end)

kb.test("age counts on the day of the visit", function()
  kb.assert_false(kb.fire("booking.requested", video({ patient = TEEN })).vetoed, "18 on the day of the visit")
  kb.assert_true(kb.fire("booking.requested", video({ patient = TEEN, start = "2026-01-19T10:00:00+01:00" })).vetoed)
end)

kb.test("physical and phone visits and adults are not affected", function()
  kb.assert_false(kb.fire("booking.requested", video({ visit_form = "physical" })).vetoed)
  kb.assert_false(kb.fire("booking.requested", video({ visit_form = "phone" })).vetoed)
  kb.assert_false(kb.fire("booking.requested", video({ patient = ADULT })).vetoed)
end)

kb.test("an invalid patient number is refused with the reason", function()
  local r = kb.fire("booking.requested", video({ patient = "12345" }))
  kb.assert_eq(r.reason, "Patientens personnummer är ogiltigt (wrong-length)")
end)

kb.test("without a start the visit counts as today", function()
  local p = video({ patient = TEEN })
  p.start = nil
  kb.set_now("2026-01-20")
  kb.assert_false(kb.fire("booking.requested", p).vetoed)
  kb.set_now("2026-01-19")
  kb.assert_true(kb.fire("booking.requested", p).vetoed)
end)
