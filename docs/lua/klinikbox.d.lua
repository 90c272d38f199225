---@meta
-- klinikbox.d.lua: lua-language-server definitions of the kb API that klinikbox gives
-- hook scripts, Lua plugins and `klinikbox lua test`. Documentation: docs/lua-api.md.
-- Add this directory to "workspace.library" (e.g. in .luarc.json) for completion and type
-- checks. The runtime is Lua 5.4 in a sandbox: no io, debug, package, require, dofile,
-- loadfile, string.dump or os.execute; os has only time, date, clock and difftime.
-- tests/unit/lua/LuaDocsTest.cpp checks that every kb function is declared here.

-- ---------------------------------------------------------------------------------------
-- Enumerations
-- ---------------------------------------------------------------------------------------

---The phase of a sync hook: validate runs first, then decide, then finalize.
---@alias kb.Phase
---| "validate" # checks that may refuse early
---| "decide"   # the default: routing and changes
---| "finalize" # last touches after every decision

---How a visit takes place.
---@alias kb.VisitForm
---| "physical" # at the clinic
---| "video"    # video visit
---| "phone"    # telephone visit

---Where a booking request came from.
---@alias kb.BookingChannel "console"|"vip"|"invitation"|"api"

---A user's role in the box.
---@alias kb.Role "admin"|"staff"|"auditor"|"it"

---HTTP methods a Lua plugin route may use.
---@alias kb.HttpMethod "GET"|"POST"|"PUT"|"PATCH"|"DELETE"

---Why a text is not a valid personnummer (second result of kb.pnr.parse / kb.pnr.age).
---@alias kb.PnrError
---| "empty"
---| "invalid-characters"
---| "wrong-length"
---| "invalid-date"
---| "invalid-checksum"
---| "future-date"
---| "separator-misuse"

---Events the booking and check-in plugins publish (any "<domain>.<what>" name is accepted).
---@alias kb.EventName
---| "booking.requested" # sync: change slot_id, practitioner, note, purpose, set triage/urgency_days, or kb.reject
---| "booking.created"   # async
---| "booking.cancelled" # async
---| "booking.rebooked"  # async
---| "booking.noshow"    # async
---| "checkin.arrived"   # sync then async; hook scripts should kb.subscribe
---| "checkin.fee"       # sync fee override at check-in: change fee_ore, set fee_exemption, or kb.reject
---| string

-- ---------------------------------------------------------------------------------------
-- Values the box hands to scripts
-- ---------------------------------------------------------------------------------------

---The person who caused an event or called a route.
---@class kb.User
---@field username string login name
---@field role kb.Role the user's role
---@field hsa_id string the user's HSA-id ("" when none)
---@field care_unit string the user's care unit HSA-id ("" when none)

---An event as a hook or handler receives it.
---@class kb.Event
---@field name string the event name, e.g. "booking.requested"
---@field payload table<string, any> the JSON payload as a Lua table; change it in a sync hook
---@field request_id string the request that caused it ("" if none, "test" under kb.fire, "dry-run" in a dry run)
---@field user? kb.User who caused it; nil for the box's own events

---Payload of booking.requested (sync, before the booking is stored).
---@class kb.BookingRequested
---@field patient string 12-digit personnummer
---@field care_unit string HSA-id of the care unit
---@field practitioner string HSA-id of the practitioner; a hook may set another to route the booking to them (same time)
---@field profession string e.g. "läkare"
---@field visit_form kb.VisitForm
---@field visit_type string visit type id
---@field visit_type_name string
---@field start string ISO 8601 with offset, e.g. "2026-11-25T09:00:00+01:00"
---@field ["end"] string ISO 8601 with offset
---@field slot_id integer the slot; a hook may set another slot to route the booking
---@field reason? string free text from the booker; never sent out
---@field urgency_days? integer 0..365; a hook may set it and it is stored
---@field triage? string a hook's triage category (up to 60 characters), stored with the booking
---@field guardian? string personnummer of the guardian
---@field channel kb.BookingChannel
---@field note? string a note (a hook may change it)
---@field purpose? string the purpose of the visit (a hook may change it)

---Payload of booking.created (async); also the base of cancelled, rebooked and noshow.
---@class kb.BookingCreated
---@field booking_id any
---@field patient string 12-digit personnummer
---@field care_unit string
---@field care_unit_name string
---@field practitioner string
---@field practitioner_name string
---@field profession string
---@field visit_form kb.VisitForm
---@field visit_type string
---@field visit_type_name string
---@field start string
---@field ["end"] string
---@field location string

---Payload of booking.cancelled (async).
---@class kb.BookingCancelled: kb.BookingCreated
---@field cancelled_by "patient"|"staff"

---Payload of booking.rebooked (async): start and end are the new times.
---@class kb.BookingRebooked: kb.BookingCreated
---@field old_start string
---@field old_end string

---Payload of booking.noshow (async).
---@class kb.BookingNoshow: kb.BookingCreated
---@field noshow_count integer

---Payload of checkin.arrived.
---@class kb.CheckinArrived
---@field booking_id any
---@field patient string
---@field care_unit string
---@field practitioner string
---@field profession string
---@field visit_form kb.VisitForm
---@field visit_type string
---@field start string
---@field arrived_at string

---Payload of checkin.fee (sync fee override, published by the check-in plugin at check-in).
---@class kb.CheckinFee
---@field patient string
---@field visit_form kb.VisitForm
---@field visit_type string
---@field profession string
---@field date string "YYYY-MM-DD" of the visit
---@field age integer the patient's age on the visit day
---@field frikort boolean false here: the frikort is checked after this hook
---@field fee_ore integer the fee in öre by the region's rules; the hook may set it (>= 0)
---@field counts_toward_ceiling boolean whether the fee counts toward the high-cost protection; the hook may change it
---@field fee_exemption? string why the visit is free; set it to exempt (the fee becomes 0)

---@class kb.BookingRequestedEvent: kb.Event
---@field payload kb.BookingRequested

---@class kb.BookingCreatedEvent: kb.Event
---@field payload kb.BookingCreated

---@class kb.BookingCancelledEvent: kb.Event
---@field payload kb.BookingCancelled

---@class kb.BookingRebookedEvent: kb.Event
---@field payload kb.BookingRebooked

---@class kb.BookingNoshowEvent: kb.Event
---@field payload kb.BookingNoshow

---@class kb.CheckinArrivedEvent: kb.Event
---@field payload kb.CheckinArrived

---@class kb.CheckinFeeEvent: kb.Event
---@field payload kb.CheckinFee

---Options of kb.on.
---@class kb.HookOptions
---@field phase? kb.Phase default "decide"
---@field after? string[] hooks to run after ("other.lua" means "lua:other.lua"; plugin hooks "<id>:<name>")
---@field before? string[] hooks to run before

---Options of kb.send.
---@class kb.SendOptions
---@field idempotency_key string 1-200 characters; a second send with the same key on the channel is dropped

---Result of kb.pnr.parse.
---@class kb.PnrInfo
---@field digits string the 12 digits, no separator
---@field birthdate string "YYYY-MM-DD"
---@field sex "M"|"F"
---@field age integer whole years on the given date (default today)
---@field coordination boolean true for a samordningsnummer

---Result of kb.fire (tests).
---@class kb.FireResult
---@field vetoed boolean true when a sync hook called kb.reject
---@field reason? string the kb.reject reason (when vetoed)
---@field payload? table<string, any> the payload after the sync hooks (when not vetoed)

---A message kb.send queued, as kb.sent lists it (tests).
---@class kb.SentMessage
---@field channel string
---@field payload any the payload after a round trip through JSON
---@field idempotency_key string

---What a Lua plugin route function receives.
---@class kb.Request
---@field method kb.HttpMethod
---@field path string the request path
---@field params table<string, string> path parameters ("/visits/{id}" -> params.id)
---@field query table<string, string> query parameters (first value of each)
---@field headers table<string, string> request headers, lower-case names (no cookie, authorization, x-csrf-token)
---@field body string the raw body ("" when none)
---@field json? any the parsed body, when non-empty and its Content-Type contains "json"
---@field request_id string
---@field user? kb.User the logged-in user; nil for anonymous routes

---What a Lua plugin route function returns (or nil for 204 No Content).
---@class kb.Response
---@field status? integer 100-599, default 200
---@field json? table a JSON body (not together with body)
---@field body? string a text body (not together with json)
---@field content_type? string default "text/plain; charset=utf-8" for body
---@field headers? table<string, string> extra headers (not Set-Cookie, Content-Type, Content-Length)

---Options of kb.route.
---@class kb.RouteOptions
---@field roles? kb.Role[] who may call it; default any logged-in user
---@field anonymous? boolean true: no login needed
---@field summary? string OpenAPI summary
---@field body? table JSON Schema of the request body: the box refuses a body that breaks it (400) and publishes it in OpenAPI
---@field status? integer the success status (200-299); without it the document says "some 2xx"
---@field problems? integer[] the statuses the function refuses with, e.g. {404, 409}

---A console page of a Lua plugin (kb.page).
---@class kb.PageSpec
---@field id string unique within the plugin
---@field title string Swedish menu title
---@field script string ES module path relative to the plugin's web/ directory
---@field roles? kb.Role[] default admin and it

---Options of kb.audit.
---@class kb.AuditOptions
---@field patient? string personnummer the record is about
---@field subjects? string[] in a route: the patients one view showed (one record lists them all; not with patient)
---@field purpose? string default "vård"
---@field details? string free text
---@field outcome? string e.g. "ok", "denied", "failed"

---One row of kb.db.query: column name -> value (NULL columns are absent).
---@alias kb.Row table<string, string|integer|number>

-- ---------------------------------------------------------------------------------------
-- The kb table
-- ---------------------------------------------------------------------------------------

---The klinikbox API. Available in hook scripts, Lua plugins and tests; a function used
---where it is not available raises an error (see docs/lua-api.md "The kb API").
---@class kb
kb = {}

---Registers a sync hook on an event (top level only). fn may change event.payload or call kb.reject.
---@param event kb.EventName
---@param options kb.HookOptions
---@param fn fun(event: kb.Event)
---@overload fun(event: "booking.requested", fn: fun(event: kb.BookingRequestedEvent))
---@overload fun(event: "booking.requested", options: kb.HookOptions, fn: fun(event: kb.BookingRequestedEvent))
---@overload fun(event: "checkin.fee", fn: fun(event: kb.CheckinFeeEvent))
---@overload fun(event: "checkin.fee", options: kb.HookOptions, fn: fun(event: kb.CheckinFeeEvent))
---@overload fun(event: kb.EventName, fn: fun(event: kb.Event))
function kb.on(event, options, fn) end

---Registers an async handler, called after the event happened (top level only); the place for kb.send.
---@overload fun(event: "booking.created", fn: fun(event: kb.BookingCreatedEvent))
---@overload fun(event: "booking.cancelled", fn: fun(event: kb.BookingCancelledEvent))
---@overload fun(event: "booking.rebooked", fn: fun(event: kb.BookingRebookedEvent))
---@overload fun(event: "booking.noshow", fn: fun(event: kb.BookingNoshowEvent))
---@overload fun(event: "checkin.arrived", fn: fun(event: kb.CheckinArrivedEvent))
---@param event kb.EventName
---@param fn fun(event: kb.Event)
function kb.subscribe(event, fn) end

---Refuses the current event (sync hooks only); the reason is shown to the user. Does not return.
---@param reason string non-empty, in the user's language
function kb.reject(reason) end

---Queues a JSON message on an outbound channel ("lua.<name>" from lua.channels); not at the top level, not in sync hooks.
---@param channel string
---@param payload any a JSON-able value
---@param options kb.SendOptions
---@return integer message_id
function kb.send(channel, payload, options) end

---A setting of this script (lua.config.<file>) or plugin (its settings); "a.b" reads nested values; nil when absent (always nil in tests).
---@param key string
---@return any
function kb.config(key) end

---Seconds since 1970 on the box's clock (the test clock in tests).
---@return integer
function kb.now() end

---Today's date "YYYY-MM-DD" in the box's time zone.
---@return string
function kb.today() end

---Marks a table (or a new empty one) as a JSON array, so an empty list stays [].
---@generic T: table
---@param t? T a table without a metatable
---@return T
function kb.array(t) end

---The box's log, personnummer masked; at most 100 lines per call.
kb.log = {}

---Writes an info line to the box's log.
---@param message string
function kb.log.info(message) end

---Writes a warning to the box's log.
---@param message string
function kb.log.warn(message) end

---Writes an error line to the box's log.
---@param message string
function kb.log.error(message) end

---Personnummer and samordningsnummer helpers.
kb.pnr = {}

---True for a valid personnummer or samordningsnummer in any written form.
---@param text string
---@return boolean
function kb.pnr.valid(text) end

---Parses a personnummer; age is counted on on_date ("YYYY-MM-DD", default today).
---@param text string
---@param on_date? string
---@return kb.PnrInfo|nil info
---@return kb.PnrError? error
function kb.pnr.parse(text, on_date) end

---Age in whole years on on_date ("YYYY-MM-DD", default today).
---@param text string
---@param on_date? string
---@return integer|nil age
---@return kb.PnrError? error
function kb.pnr.age(text, on_date) end

---The text with the last four digits of every personnummer replaced by **** ("19121212-****").
---@param text string
---@return string
function kb.pnr.mask(text) end

---Amounts in öre (integers).
kb.money = {}

---Parses an amount in kronor ("150,50") to öre (15050).
---@param text string
---@return integer|nil ore
---@return "invalid-amount"? error
function kb.money.parse(text) end

---Formats öre for display: 123450 -> "1 234,50 kr".
---@param ore integer
---@return string
function kb.money.format(ore) end

---JSON text <-> Lua values, mapped as event payloads are (kb.array marks an array; null is nil).
kb.json = {}

---Encodes a value as JSON; raises on what JSON cannot hold (functions, mixed tables, cycles).
---@param value any
---@param options? {pretty: boolean?}
---@return string
function kb.json.encode(value, options) end

---Decodes JSON text; nil and "not JSON: ..." when it is not JSON.
---@param text string
---@return any value
---@return string? error
function kb.json.decode(text) end

---ISO 8601 <-> seconds since 1970, in the box's time zone (box.timezone: Swedish time unless set
---otherwise; `klinikbox lua test` uses --config's box.timezone, else Europe/Stockholm).
kb.time = {}

---"YYYY-MM-DD" (midnight) or "YYYY-MM-DDTHH:MM[:SS]" with an optional "Z" or "+HH:MM"; without an
---offset the time is the box's local time. nil and why when it is not such a time (or does not exist
---there: the hour the clocks skip in spring).
---@param iso string
---@return integer|nil epoch
---@return string? error
function kb.time.parse(iso) end

---Formats seconds since 1970 in the box's local time: "2026-01-15T13:00:00+01:00", "2026-01-15" or "13:00".
---@param epoch integer
---@param kind? "datetime"|"date"|"time"
---@return string
function kb.time.format(epoch, kind) end

---The weekday on the box's local day: 1 = Monday ... 7 = Sunday (of a date, an ISO time or epoch seconds).
---@param time integer|string
---@return integer
function kb.time.weekday(time) end

---Case mapping that knows Swedish letters (å ä ö é ü ...), unlike string.lower/upper.
kb.text = {}

---"ÅSA ÖST" -> "åsa öst"
---@param s string
---@return string
function kb.text.lower(s) end

---"åsa öst" -> "ÅSA ÖST"
---@param s string
---@return string
function kb.text.upper(s) end

---Fails unless actual equals expected (tables compared deeply).
---@param actual any
---@param expected any
---@param message? string
function kb.assert_eq(actual, expected, message) end

---Fails if actual equals unexpected (tables compared deeply).
---@param actual any
---@param unexpected any
---@param message? string
function kb.assert_ne(actual, unexpected, message) end

---Fails unless value is neither false nor nil.
---@param value any
---@param message? string
function kb.assert_true(value, message) end

---Fails unless value is false or nil.
---@param value any
---@param message? string
function kb.assert_false(value, message) end

---Fails unless fn raises an error (containing the plain text `contains`, if given); returns the error message.
---@param fn fun()
---@param contains? string
---@param message? string
---@return string error
function kb.assert_error(fn, contains, message) end

---A test case for `klinikbox lua test` (top level only); ignored when the script is deployed.
---@param name string
---@param fn fun()
function kb.test(name, fn) end

---Tests only: runs this script's sync hooks for the event, then (unless vetoed) its async handlers.
---@param event kb.EventName
---@param payload table<string, any>
---@param user? kb.User becomes event.user
---@return kb.FireResult
function kb.fire(event, payload, user) end

---Tests only: the messages kb.send queued in this test case.
---@return kb.SentMessage[]
function kb.sent() end

---Tests only: moves the test clock (epoch seconds, "YYYY-MM-DD" = 12:00, or "YYYY-MM-DDTHH:MM[:SS]", local time).
---Tests only: moves the test clock (epoch seconds, "YYYY-MM-DD" = its 12:00, or a time as kb.time.parse
---reads it: "YYYY-MM-DDTHH:MM[:SS]" in the box's zone, or with Z or +HH:MM). A day or time that does not exist is an error.
function kb.set_now(time) end

---Tests only: the settings kb.config reads for the rest of this case (nil: none). Every case
---starts with the settings of `--config` (the script's lua.config.<file> block), if given. In a
---Lua plugin's tests they are checked against its schema.yaml, defaults filled in (an error names
---a setting the schema refuses).
---@param settings table|nil
function kb.set_config(settings) end

---Lua plugins only: an API route (top level only); relative paths are under /api/v1/<plugin-id>.
---@param method kb.HttpMethod
---@param path string e.g. "/report" or "/visits/{id}"
---@param options kb.RouteOptions
---@param fn fun(req: kb.Request): kb.Response|nil
---@overload fun(method: kb.HttpMethod, path: string, fn: fun(req: kb.Request): kb.Response|nil)
function kb.route(method, path, options, fn) end

---@class kb.ScheduleOptions
---@field every_minutes? integer 1..10080: run every N minutes
---@field at? string "HH:MM": run daily at this local time

---@class kb.Job
---@field name string the job's name
---@field due integer when it was due (epoch seconds; earlier than kb.now() after a restart)

---Lua plugins only: a timer (top level only). The box keeps when each job is next due in its
---database, so a timer survives restarts (a run missed while the box was down runs once).
---@param name string 1-60 characters a-z, 0-9, '_', '-', '.'; unique in the plugin
---@param options kb.ScheduleOptions exactly one of every_minutes and at
---@param fn fun(job: kb.Job)
function kb.schedule(name, options, fn) end

---@class kb.RequestOptions
---@field json? table the body as JSON (Content-Type application/json)
---@field body? string a raw body
---@field headers? table<string, string>
---@field as? kb.Role|false the caller's role (default "admin"); false: nobody logged in

---@class kb.TestResponse
---@field status integer 200 by default, 204 for no content, 401/403/404/405 when the box answers before the route
---@field json? table
---@field body? string
---@field headers? table<string, string>
---@field content_type? string
---@field problem? string the detail of a refusal the box answers before the route runs (its document is in json)

---Tests of a Lua plugin only: calls one of the plugin's routes as the box would.
---@param method kb.HttpMethod
---@param path string "/entries" or "/api/v1/<id>/entries", with an optional "?query"
---@param options? kb.RequestOptions
---@return kb.TestResponse
function kb.request(method, path, options) end

---@class kb.PublishedEvent
---@field name string
---@field payload table

---Tests of a Lua plugin only: the events kb.events.publish sent in this test case.
---@return kb.PublishedEvent[]
function kb.published() end

---Tests of a Lua plugin only: fn plays the plugin that hooks the sync event `name`: it
---answers this test case's kb.events.publish_sync(name, ...) by changing the payload (or
---returning another table), or refuses with `return nil, reason`. Without it, a sync event
---comes back unanswered (as when the answering plugin is not running).
---@param name string e.g. "booking.book"
---@param fn fun(payload: table): table|nil, string|nil
function kb.answer(name, fn) end

---Tests of a Lua plugin only: runs the kb.schedule jobs due at the test clock's now.
---@return integer ran how many jobs ran
function kb.run_due() end

---Lua plugins only: loads the plugin's own module lua/<name>.lua ("a.b" is lua/a/b.lua) once
---per state, in the plugin's environment, and returns its value. No other file can be loaded.
---@param name string
---@return any
function require(name) end

---Lua plugins only: a console page (top level only).
---@param page kb.PageSpec
function kb.page(page) end

---Lua plugins only: a PDL audit record; the action is prefixed with the plugin id.
---@param action string e.g. "report.read"
---@param options? kb.AuditOptions
function kb.audit(action, options) end

---Lua plugins only: the plugin's own tables (<plugin-id>_...), one SQL statement per call.
kb.db = {}

---Runs a SELECT with ? parameters; returns at most 10 000 rows.
---@param sql string
---@param ... nil|boolean|number|string parameters
---@return kb.Row[]
function kb.db.query(sql, ...) end

---Runs one INSERT/UPDATE/DELETE/... with ? parameters.
---@param sql string
---@param ... nil|boolean|number|string parameters
---@return integer changes
---@return integer last_insert_id
function kb.db.exec(sql, ...) end

---Runs fn in one write transaction (rolled back if fn raises) and returns its results; not nested.
---@generic R
---@param fn fun(): R
---@return R
function kb.db.transaction(fn) end

---Lua plugins only: events.
kb.events = {}

---Publishes an async event declared under permissions.events.publish in plugin.yaml.
---@param name string
---@param payload table<string, any> a table with named fields
function kb.events.publish(name, payload) end

---Publishes a sync event declared under permissions.events.publish and returns the payload as
---the plugins that hook it left it (e.g. booking.book: booking_id, or problem), or nil, the
---veto's or failure's reason, the hook's name and whether the hook failed. Not at the top
---level and not inside kb.db.transaction.
---@param name string
---@param payload table<string, any> a table with named fields
---@return table|nil payload
---@return string|nil reason
---@return string|nil hook
---@return boolean|nil failed
function kb.events.publish_sync(name, payload) end

---Writes one info line to the log (arguments tostring'ed, separated by tabs).
---@param ... any
function print(...) end
