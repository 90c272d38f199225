-- A regional fee rule (Region Demo) for checkin.fee: the patient fee (patientavgift) by
-- visit form, with the region's age exemptions: free under 20 and from 85, and free with
-- a high-cost card (frikort). The age counts on the day of the visit.
--
-- Payload fields read: patient, visit_form, date ("YYYY-MM-DD", default today), frikort,
-- fee_ore (the plugin's default fee). Fields set: fee_ore, fee_text, fee_rule,
-- fee_exemption (when free).
-- Settings (optional): fee_ore = {physical = 20000, video = 10000, phone = 10000},
-- free_under = 20, free_from = 85.

local DEFAULT_FEES = { physical = 20000, video = 10000, phone = 10000 }

kb.on("checkin.fee", function(event)
  local p = event.payload
  local fees = kb.config("fee_ore") or DEFAULT_FEES
  local fee = fees[p.visit_form] or p.fee_ore
  if type(fee) ~= "number" then
    error("no fee for visit form " .. tostring(p.visit_form))
  end
  local day = p.date or kb.today()
  local age, err = kb.pnr.age(p.patient or "", day)
  if not age then kb.reject("Ogiltigt personnummer (" .. err .. ")") end
  local exemption
  if age < (kb.config("free_under") or 20) then
    exemption = "under " .. (kb.config("free_under") or 20) .. " år"
  elseif age >= (kb.config("free_from") or 85) then
    exemption = (kb.config("free_from") or 85) .. " år eller äldre"
  elseif p.frikort then
    exemption = "frikort"
  end
  if exemption then
    fee = 0
    p.fee_exemption = exemption
  end
  p.fee_ore = math.tointeger(fee)
  p.fee_text = kb.money.format(p.fee_ore)
  p.fee_rule = "region-demo-2026"
end)

-- Tests: `klinikbox lua test fee_override.lua`

local function fee(fields)
  local p = { patient = "191212121212", visit_form = "physical", date = "2026-01-15", fee_ore = 30000 }
  for k, v in pairs(fields or {}) do p[k] = v end
  return kb.fire("checkin.fee", p)
end

kb.test("an adult pays the region's fee for the visit form", function()
  local r = fee({ patient = "19800101-0019" })
  kb.assert_eq(r.payload.fee_ore, 20000)
  kb.assert_eq(r.payload.fee_text, "200,00 kr")
  kb.assert_eq(r.payload.fee_exemption, nil)
  kb.assert_eq(fee({ patient = "19800101-0019", visit_form = "video" }).payload.fee_ore, 10000)
end)

kb.test("under 20 is free, counted on the day of the visit", function()
  -- 20080120-2383 turns 18 on 2026-01-20: still under 20.
  local r = fee({ patient = "20080120-2383" })
  kb.assert_eq(r.payload.fee_ore, 0)
  kb.assert_eq(r.payload.fee_exemption, "under 20 år")
  kb.assert_eq(r.payload.fee_text, "0,00 kr")
end)

kb.test("85 and older is free from the birthday", function()
  -- 19410115-... turns 85 on 2026-01-15.
  local r = fee({ patient = "19410115-0011" })
  kb.assert_eq(r.payload.fee_exemption, "85 år eller äldre")
  r = fee({ patient = "19410115-0011", date = "2026-01-14" })
  kb.assert_eq(r.payload.fee_ore, 20000, "the day before the birthday")
end)

kb.test("a high-cost card makes it free", function()
  local r = fee({ patient = "19800101-0019", frikort = true })
  kb.assert_eq(r.payload.fee_ore, 0)
  kb.assert_eq(r.payload.fee_exemption, "frikort")
end)

kb.test("an unknown visit form keeps the plugin's fee", function()
  kb.assert_eq(fee({ patient = "19800101-0019", visit_form = "home" }).payload.fee_ore, 30000)
end)

kb.test("an invalid personnummer refuses the check-in", function()
  local r = fee({ patient = "19800101-0018" })
  kb.assert_true(r.vetoed)
  kb.assert_eq(r.reason, "Ogiltigt personnummer (invalid-checksum)")
end)
