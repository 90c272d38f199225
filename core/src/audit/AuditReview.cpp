#include <klinikbox/Schema.h>
#include "audit/AuditReview.h"

#include <klinikbox/Personnummer.h>

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <limits>
#include <ctime>
#include <set>

namespace klinikbox::audit {

namespace {

// The instant a local day starts, written as kb_audit.at is (UTC, milliseconds), so that text
// comparison orders it among the records. The days of a period are the box's days (Swedish
// time): the console shows each record's time in it, and a patient asks about the days they
// know, not about UTC days that start at 01:00 or 02:00.
std::string dayStartAt(std::chrono::year_month_day day) {
    const auto t = std::chrono::system_clock::to_time_t(Clock::localMidnight(day));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    return b;
}

std::string dayAfterStartAt(const std::string& date) {
    return dayStartAt(std::chrono::year_month_day{std::chrono::sys_days{*Clock::parseDate(date)} + std::chrono::days{1}});
}

// kb_audit.at ("2026-12-06T23:30:00.123Z") in the box's time zone with its offset
// ("2026-12-07T00:30:00.123+01:00"): the CSV is read by people, next to the console, which
// shows the same local time, and the offset keeps it one instant for a program. Text that is
// not in the log's format is passed through.
std::string localAt(const std::string& utc) {
    std::tm tm{};
    if (utc.size() != 24 || utc[23] != 'Z' || !strptime(utc.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return utc;
    std::string local = Clock::localIso(std::chrono::system_clock::from_time_t(timegm(&tm)));
    return local.insert(19, utc.substr(19, 4));  // the milliseconds before the offset
}

// " AND at >= ? AND at < ?" for the filter's period, with its parameters.
std::string period(const std::string& from, const std::string& to, std::vector<std::string>& params) {
    std::string w;
    if (!from.empty()) {
        w += " AND at >= ?";
        params.push_back(dayStartAt(*Clock::parseDate(from)));
    }
    if (!to.empty()) {
        w += " AND at < ?";
        params.push_back(dayAfterStartAt(to));
    }
    return w;
}

// Appends the WHERE clause and its parameters for a filter.
std::string where(const ReviewFilter& f, std::vector<std::string>& params) {
    std::string w = " WHERE 1=1";
    if (!f.patient.empty()) {
        // A view of several patients names them in kb_audit_subjects, not in patient.
        w += " AND (patient = ? OR seq IN (SELECT seq FROM kb_audit_subjects WHERE subject = ?))";
        params.push_back(f.patient);
        params.push_back(f.patient);
    }
    if (!f.user.empty()) {
        w += " AND username = ? COLLATE NOCASE";
        params.push_back(f.user);
    }
    if (!f.action.empty()) {
        if (f.action.back() == '.') {
            w += " AND substr(action, 1, ?) = ?";
            params.push_back(std::to_string(f.action.size()));
            params.push_back(f.action);
        } else {
            w += " AND action = ?";
            params.push_back(f.action);
        }
    }
    w += period(f.from, f.to, params);
    if (!f.outcome.empty()) {
        w += " AND outcome = ?";
        params.push_back(f.outcome);
    }
    if (!f.role.empty()) {
        w += " AND role = ?";
        params.push_back(f.role);
    }
    if (f.hideNoise) w += " AND substr(action, 1, 6) <> 'audit.' AND action <> 'access.denied.suppressed'";
    if (f.beforeSeq > 0) {
        w += " AND seq < ?";
        params.push_back(std::to_string(f.beforeSeq));
    }
    return w;
}

std::vector<std::string> splitSubjects(const std::string& list) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < list.size()) {
        const auto j = std::min(list.find(' ', i), list.size());
        if (j > i) out.push_back(list.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

Poco::JSON::Object::Ptr row(db::Statement& st) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    const char* names[] = {"seq", "at", "username", "role", "hsa_id", "care_unit", "action", "patient", "purpose",
                           "outcome", "details", "request_id", "remote_addr"};
    o->set("seq", st.getInt(0));
    for (int i = 1; i < 13; ++i) o->set(names[i], st.getText(i));
    // The patients of a multi-patient view (one record for all of them), else empty.
    Poco::JSON::Array::Ptr subjects = new Poco::JSON::Array;
    for (const auto& s : splitSubjects(st.getText(13))) subjects->add(s);
    o->set("subjects", subjects);
    return o;
}

// The last column lists a multi-patient view's subjects, space-separated, in order.
constexpr const char* kCols =
    "SELECT seq, at, username, role, hsa_id, care_unit, action, patient, purpose, outcome, details, request_id,"
    " remote_addr, (SELECT COALESCE(group_concat(subject, ' '), '') FROM"
    " (SELECT subject FROM kb_audit_subjects s WHERE s.seq = kb_audit.seq ORDER BY subject)) FROM kb_audit";

std::string describe(const ReviewFilter& f) {
    std::string s;
    auto add = [&](const char* k, const std::string& v) {
        if (!v.empty()) s += (s.empty() ? "" : " ") + std::string(k) + "=" + v;
    };
    add("user", f.user);
    add("action", f.action);
    add("from", f.from);
    add("to", f.to);
    add("outcome", f.outcome);
    add("role", f.role);
    return s.empty() ? "all" : s;
}

void bindAll(db::Statement& st, const std::vector<std::string>& params, int from = 1) {
    int i = from;
    for (const auto& p : params) st.bind(i++, p);
}

}  // namespace

std::string csvCell(const std::string& v) {
    std::string s = v;
    // A cell a spreadsheet would run as a formula is prefixed with an apostrophe.
    if (!s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
        s = "'" + s;
    if (s.find_first_of(",\"\r\n;") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + "\"";
}

static void parsePeriod(const Request& req, std::string& from, std::string& to) {
    for (auto* d : {&from, &to}) {
        *d = req.queryParam(d == &from ? "from" : "to").value_or("");
        const auto day = d->empty() ? std::nullopt : Clock::parseDate(*d);
        if (!d->empty() && (!day || !Clock::inRange(*day)))
            throw Problem::badRequest("/problems/invalid-parameter",
                                      "from and to are dates written YYYY-MM-DD, from 1900-01-01 to 2199-12-31");
    }
    if (!from.empty() && !to.empty() && from > to) throw Problem::badRequest("/problems/invalid-parameter", "from is after to");
}

ReviewFilter parseFilter(const Request& req, const Clock& clock) {
    ReviewFilter f;
    static const std::set<std::string> known = {"patient", "user", "action", "from", "to", "outcome", "role",
                                                 "hide_noise", "before_seq", "limit"};
    for (const auto& [k, v] : req.query)
        if (!known.count(k)) throw Problem::badRequest("/problems/unknown-parameter", "unknown query parameter '" + k + "'");
    if (auto p = req.queryParam("patient"); p && !p->empty()) {
        auto r = Personnummer::parse(*p, clock.today());
        if (auto* e = std::get_if<PersonnummerError>(&r))
            throw Problem(400, "/problems/invalid-personnummer", "Invalid personnummer", std::string(describeSv(*e)))
                .with("reason", std::string(toString(*e)));
        f.patient = std::get<Personnummer>(r).twelveDigits();
    }
    f.user = req.queryParam("user").value_or("");
    if (f.user.size() > 64) throw Problem::badRequest("/problems/invalid-parameter", "user is too long");
    f.action = req.queryParam("action").value_or("");
    if (f.action.size() > 64) throw Problem::badRequest("/problems/invalid-parameter", "action is too long");
    f.outcome = req.queryParam("outcome").value_or("");
    if (!f.outcome.empty() && f.outcome != "ok" && f.outcome != "denied" && f.outcome != "failed")
        throw Problem::badRequest("/problems/invalid-parameter", "outcome is ok, denied or failed");
    f.role = req.queryParam("role").value_or("");
    static const std::set<std::string> roles = {"admin", "staff", "auditor", "it", "anonymous", "system"};
    if (!f.role.empty() && !roles.count(f.role))
        throw Problem::badRequest("/problems/invalid-parameter", "role is admin, staff, auditor, it, anonymous or system");
    const auto noise = req.queryParam("hide_noise").value_or("false");
    if (noise != "true" && noise != "false") throw Problem::badRequest("/problems/invalid-parameter", "hide_noise is true or false");
    f.hideNoise = noise == "true";
    parsePeriod(req, f.from, f.to);
    f.limit = static_cast<int>(req.intQuery("limit", 100, 1, 1000));
    f.beforeSeq = req.intQuery("before_seq", 0, 1, std::numeric_limits<long long>::max());
    return f;
}

Poco::JSON::Array::Ptr reviewRecords(store::Database& db, const ReviewFilter& f, int limit) {
    std::vector<std::string> params;
    const std::string sql = std::string(kCols) + where(f, params) + " ORDER BY seq DESC LIMIT ?";
    Poco::JSON::Array::Ptr rows = new Poco::JSON::Array;
    db.read("core", [&](db::Connection& c) {
        auto st = c.prepare(sql);
        bindAll(st, params);
        st.bind(static_cast<int>(params.size()) + 1, limit);
        while (st.step()) rows->add(row(st));
    });
    return rows;
}

std::string exportCsv(store::Database& db, const ReviewFilter& f) {
    std::vector<std::string> params;
    const std::string sql = std::string(kCols) + where(f, params) + " ORDER BY seq LIMIT 100000";
    std::string csv = "seq,at,username,role,hsa_id,care_unit,action,patient,purpose,outcome,details,request_id,remote_addr,"
                      "subjects\r\n";
    db.read("core", [&](db::Connection& c) {
        auto st = c.prepare(sql);
        bindAll(st, params);
        while (st.step()) {
            csv += std::to_string(st.getInt(0));
            for (int i = 1; i < 14; ++i) {
                csv += ',';  // two appends: GCC 12 -O3 false -Werror=restrict on "," + string
                csv += csvCell(i == 1 ? localAt(st.getText(i)) : st.getText(i));
            }
            csv += "\r\n";
        }
    });
    return csv;
}

Poco::JSON::Array::Ptr patientExtract(store::Database& db, const std::string& patient, const std::string& from,
                                      const std::string& to) {
    Poco::JSON::Array::Ptr entries = new Poco::JSON::Array;
    std::vector<std::string> params{patient};
    const std::string within = period(from, to, params);
    db.read("core", [&](db::Connection& c) {
        // Which care units and users accessed the patient's data, per day: what a patient
        // may ask for under PDL 8:2 (a log extract). A view of several patients counts once
        // for each of them (found through kb_audit_subjects); the others are not named. The
        // day is the box's local day (SQLite's 'localtime' is the process zone, box.timezone):
        // an access at 00:30 Swedish time belongs to that day, not to the UTC day before.
        auto st = c.prepare(
            "SELECT date(at, 'localtime') AS day, care_unit, username, role, group_concat(DISTINCT action), COUNT(*) "
            "FROM kb_audit WHERE (patient = ?1 OR seq IN (SELECT seq FROM kb_audit_subjects WHERE subject = ?1))"
            " AND action NOT LIKE 'audit.%'" + within + " GROUP BY day, care_unit, username, role "
            "ORDER BY day DESC, care_unit, username");
        bindAll(st, params);
        while (st.step()) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("day", st.getText(0));
            o->set("care_unit", st.getText(1));
            o->set("username", st.getText(2));
            o->set("role", st.getText(3));
            o->set("actions", st.getText(4));
            o->set("count", st.getInt(5));
            entries->add(o);
        }
    });
    return entries;
}

void installReview(server::Box& box) {
    box.addModule([](server::Box& b) {
        // Log review is the auditor's task (PDL 4:3); admins may verify but not read.
        using namespace klinikbox::schema;
        const std::vector<ParamSpec> filter = {{"patient", personnummer(), false, ""},
                                               {"user", text(64, 0), false, ""},
                                               {"action", text(64, 0), false, ""},
                                               {"from", date(), false, "first day, in the box's time zone (Swedish time)"},
                                               {"to", date(), false, "last day, in the box's time zone"},
                                               {"outcome", oneOf({"ok", "denied", "failed"}), false, ""},
                                               {"role", oneOf({"admin", "staff", "auditor", "it", "anonymous", "system"}), false, ""},
                                               {"hide_noise", boolean(), false, "true leaves out the review's own records"},
                                               {"before_seq", integer(1, 9'000'000'000'000'000'000LL), false, ""},
                                               {"limit", integer(1, 1000), false, ""}};
        auto add = [&b](std::string pattern, Handler h, RouteSpec spec) {
            spec.tag = "audit";
            b.routes().addCore("GET", std::move(pattern), Access::only({Role::Auditor}), std::move(h), std::move(spec));
        };
        auto& log = b.audit();
        auto& db = b.db();
        const auto& clock = b.clock();

        add("/api/v1/audit", [&log, &db, &clock](Request& req) {
            const auto f = parseFilter(req, clock);
            Poco::JSON::Array::Ptr rows = reviewRecords(db, f, f.limit + 1);
            const bool more = static_cast<int>(rows->size()) > f.limit;
            if (more) rows->remove(static_cast<unsigned>(f.limit));
            log.append(AuditLog::actorOf(req), AuditEntry{"audit.review", f.patient, "loggkontroll", "ok", describe(f)});
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("records", rows);
            if (more) o->set("next_before_seq", rows->getObject(rows->size() - 1)->getValue<long long>("seq"));
            return Response::json(o);
        }, RouteSpec{.summary = "Audit records, newest first, filtered by patient, user, action (or kind: a prefix ending in '.'), outcome, role and period; hide_noise=true leaves out the review's own records", .status = 200, .query = filter});

        add("/api/v1/audit/export.csv", [&log, &db, &clock](Request& req) {
            auto f = parseFilter(req, clock);
            const std::string csv = exportCsv(db, f);
            log.append(AuditLog::actorOf(req), AuditEntry{"audit.export", f.patient, "loggkontroll", "ok", describe(f)});
            Response r = Response::text(csv, "text/csv; charset=utf-8");
            r.headers.emplace_back("Content-Disposition", "attachment; filename=\"klinikbox-audit.csv\"");
            return r;
        }, RouteSpec{.summary = "The filtered audit log as CSV", .responseType = "text/csv", .status = 200, .query = filter});

        add("/api/v1/audit/patient-extract", [&log, &db, &clock](Request& req) {
            // The extract answers one question (who accessed this patient, when): its route
            // declares patient, from and to, so the dispatcher refuses any other filter.
            const auto f = parseFilter(req, clock);
            if (f.patient.empty()) throw Problem::badRequest("/problems/invalid-parameter", "patient is required");
            Poco::JSON::Array::Ptr entries = patientExtract(db, f.patient, f.from, f.to);
            log.append(AuditLog::actorOf(req), AuditEntry{"audit.patient_extract", f.patient, "loggkontroll", "ok", describe(f)});
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("patient", f.patient);
            if (!f.from.empty()) o->set("from", f.from);
            if (!f.to.empty()) o->set("to", f.to);
            o->set("entries", entries);
            return Response::json(o);
        }, RouteSpec{.summary = "A patient's log extract: which units and users accessed the patient's data, per day (the box's local days), optionally within a period", .status = 200,
                     .query = {{"patient", personnummer(), true, ""}, {"from", date(), false, "first day, in the box's time zone"},
                               {"to", date(), false, "last day, in the box's time zone"}}});

        b.routes().addCore("GET", "/api/v1/audit/verify", Access::only({Role::Auditor, Role::Admin}), [&log](Request& req) {
            const auto r = log.verify();
            log.append(AuditLog::actorOf(req), AuditEntry{"audit.verify", "", "loggkontroll", r.ok ? "ok" : "failed",
                                                          r.ok ? "" : r.problem});
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
            o->set("ok", r.ok);
            o->set("records", r.records);
            if (!r.ok) {
                o->set("first_bad_seq", r.firstBadSeq);
                o->set("problem", r.problem);
            }
            return Response::json(o);
        }, RouteSpec{.summary = "Verify the audit log's hash chain", .tag = "audit", .status = 200});
    });
}

}  // namespace klinikbox::audit
