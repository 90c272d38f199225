// What every resource does with a patient: parsing the personnummer and the PDL audit record.
#include "BookingPlugin.h"

namespace booking {

std::string BookingPlugin::parsePatient(const std::string& text, const std::string& field) const {
    const auto r = Personnummer::parse(text, today());
    if (const auto* e = std::get_if<PersonnummerError>(&r))
        throw invalid(field, std::string(describeSv(*e)) + " (" + std::string(toString(*e)) + ")", "pnr." + std::string(toString(*e)));
    return std::get<Personnummer>(r).twelveDigits();
}

void BookingPlugin::audit(const Request& req, const std::string& action, const std::string& patient, const std::string& details,
                          db::Connection* tx, const std::string& outcome) {
    AuditEntry e{action, patient, kPurposeCare, outcome, details};
    if (tx) ctx_->audit().record(req, e, *tx);
    else ctx_->audit().record(req, e);
}

}  // namespace booking
