-- Triage for booking.requested: from the reason for the visit, decide how urgent it is
-- (acute, 0 days, up to 90 days) and which category it is; refuse what cannot be booked
-- remotely. The booking plugin stores urgency_days and triage with the booking (shown in
-- its details). The profession and care unit that should see the patient are filled in
-- where the booking names none, for later hooks and handlers to read: the booking plugin
-- keeps the booked slot's own (a hook moves a booking by choosing a slot_id, see
-- free_slots).
--
-- Payload fields read: reason, visit_form ("physical", "video", "phone"), urgency_days,
-- profession, care_unit. Fields set: urgency_days, triage, profession, care_unit.
-- Settings (kb.config, all optional): units = {["läkare"] = "<HSA-id>", ...} names the
-- care unit for a profession when the booking names none.

local FORMS = { physical = true, video = true, phone = true }

-- First match wins, so the most urgent categories come first.
local CATEGORIES = {
  { name = "akut", urgency_days = 0, profession = "läkare", physical_only = true,
    words = { "bröstsmärta", "andnöd", "medvetslös", "förlamning", "kraftig blödning" } },
  { name = "infektion", urgency_days = 3, profession = "sjuksköterska",
    words = { "feber", "hosta", "halsont", "urinvägsinfektion", "öronvärk" } },
  { name = "psykisk ohälsa", urgency_days = 30, profession = "psykolog",
    words = { "oro", "ångest", "nedstämd", "sömn" } },
  { name = "recept", urgency_days = 14, profession = "läkare",
    words = { "recept", "förnya" } },
  { name = "kontroll", urgency_days = 90, profession = "sjuksköterska",
    words = { "kontroll", "uppföljning", "blodtryck" } },
}
local DEFAULT = { name = "övrigt", urgency_days = 30, profession = "läkare" }

-- Lower-case, including Å, Ä and Ö (string.lower only knows ASCII).
local lower = kb.text.lower

local function categorise(reason)
  local text = lower(reason or "")
  for _, c in ipairs(CATEGORIES) do
    for _, w in ipairs(c.words) do
      if string.find(text, w, 1, true) then return c end
    end
  end
  return DEFAULT
end

kb.on("booking.requested", { phase = "validate" }, function(event)
  local p = event.payload
  if not FORMS[p.visit_form] then
    kb.reject("Okänd besöksform: välj fysiskt besök, videobesök eller telefonbesök")
  end
  local c = categorise(p.reason)
  if c.physical_only and p.visit_form ~= "physical" then
    kb.reject("Akuta besvär kan inte bokas som video- eller telefonbesök. Boka ett fysiskt besök, "
              .. "eller ring 112 vid livsfara.")
  end
  -- The more urgent of what staff entered and what triage says, within 0..90 days.
  local urgency = c.urgency_days
  if type(p.urgency_days) == "number" and p.urgency_days < urgency then urgency = p.urgency_days end
  p.urgency_days = math.max(0, math.min(90, math.floor(urgency)))
  p.profession = p.profession or c.profession
  if not p.care_unit then
    local units = kb.config("units") or {}
    p.care_unit = units[p.profession]
  end
  p.triage = c.name
  kb.log.info("triage " .. c.name .. ": " .. p.urgency_days .. " dagar, " .. p.profession)
end)

-- Tests: `klinikbox lua test triage.lua`

local function booking(fields)
  local p = { patient = "191212121212", visit_form = "physical", reason = "" }
  for k, v in pairs(fields) do p[k] = v end
  return p
end

kb.test("chest pain is acute, for a doctor, in person", function()
  local r = kb.fire("booking.requested", booking({ reason = "Bröstsmärta sedan i morse" }))
  kb.assert_false(r.vetoed)
  kb.assert_eq(r.payload.urgency_days, 0)
  kb.assert_eq(r.payload.profession, "läkare")
  kb.assert_eq(r.payload.triage, "akut")
end)

kb.test("acute problems cannot be booked as video or phone", function()
  for _, form in ipairs({ "video", "phone" }) do
    local r = kb.fire("booking.requested", booking({ reason = "ANDNÖD", visit_form = form }))
    kb.assert_true(r.vetoed, form)
    kb.assert_true(string.find(r.reason, "112", 1, true), "the reason tells what to do")
  end
end)

kb.test("fever goes to a nurse within three days, video is fine", function()
  local r = kb.fire("booking.requested", booking({ reason = "feber och hosta", visit_form = "video" }))
  kb.assert_eq(r.payload.urgency_days, 3)
  kb.assert_eq(r.payload.profession, "sjuksköterska")
end)

kb.test("a more urgent time set by staff is kept", function()
  local r = kb.fire("booking.requested", booking({ reason = "kontroll av blodtryck", urgency_days = 7 }))
  kb.assert_eq(r.payload.urgency_days, 7)
  r = kb.fire("booking.requested", booking({ reason = "kontroll av blodtryck", urgency_days = 120 }))
  kb.assert_eq(r.payload.urgency_days, 90, "never later than 90 days")
end)

kb.test("a profession chosen by staff is kept", function()
  local r = kb.fire("booking.requested", booking({ reason = "recept", profession = "sjuksköterska" }))
  kb.assert_eq(r.payload.profession, "sjuksköterska")
  kb.assert_eq(r.payload.urgency_days, 14)
end)

kb.test("anything else waits at most 30 days", function()
  local r = kb.fire("booking.requested", booking({ reason = "vill prata om vaccin" }))
  kb.assert_eq(r.payload.triage, "övrigt")
  kb.assert_eq(r.payload.urgency_days, 30)
end)

kb.test("an unknown visit form is refused", function()
  local r = kb.fire("booking.requested", booking({ visit_form = "hembesök" }))
  kb.assert_true(r.vetoed)
  kb.assert_eq(r.reason, "Okänd besöksform: välj fysiskt besök, videobesök eller telefonbesök")
end)

kb.test("without units in the settings the care unit stays unset", function()
  local r = kb.fire("booking.requested", booking({ reason = "oro och sömnproblem", visit_form = "video" }))
  kb.assert_eq(r.payload.profession, "psykolog")
  kb.assert_eq(r.payload.care_unit, nil)
end)
