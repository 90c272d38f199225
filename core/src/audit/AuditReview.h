// Log review (loggkontroll) for auditors: filtered reading of the audit log, CSV export,
// the patient's log extract, and chain verification. Reading the log is logged too.
#pragma once

#include "server/Box.h"

#include <Poco/JSON/Array.h>

namespace klinikbox::audit {

struct ReviewFilter {
    std::string patient;   // 12 digits or empty
    std::string user;      // username or empty
    std::string action;    // exact action or prefix ending in '.' ("booking.")
    std::string from, to;  // YYYY-MM-DD inclusive, days in the box's time zone, or empty
    std::string outcome;   // ok, denied, failed, or empty
    std::string role;      // admin, staff, auditor, it, anonymous, system, or empty
    // Leaves out what buries the records a review looks for: the auditors' own review
    // records (audit.*) and the rate limiter's summaries of denials.
    bool hideNoise = false;
    long long beforeSeq = 0;  // paging: only records with seq < beforeSeq (0 = newest)
    int limit = 100;
};

// Parses and validates the query parameters (400 problems for bad values).
ReviewFilter parseFilter(const Request& req, const Clock& clock);

// Escapes one CSV cell (RFC 4180) and defuses spreadsheet formulas.
std::string csvCell(const std::string& v);

// The records a filter selects, newest first, at most `limit` (each with its "subjects": the
// patients of a multi-patient view, else empty). A patient filter finds a view of several
// patients through kb_audit_subjects.
Poco::JSON::Array::Ptr reviewRecords(store::Database& db, const ReviewFilter& f, int limit);
// The filtered log as CSV (RFC 4180), oldest first; the last column lists the subjects.
std::string exportCsv(store::Database& db, const ReviewFilter& f);
// A patient's log extract: per day (the box's local day), care unit and user, the actions
// and how many records; from and to (YYYY-MM-DD, inclusive, or empty) bound the period.
Poco::JSON::Array::Ptr patientExtract(store::Database& db, const std::string& patient, const std::string& from = "",
                                      const std::string& to = "");

void installReview(server::Box& box);

}  // namespace klinikbox::audit
