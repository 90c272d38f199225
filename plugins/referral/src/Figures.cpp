// The referral plugin's figures on the console's dashboard: incoming referrals that still
// wait for the clinic's confirmation, and sent ones without an answer after overdue_days.
// Counts only (no patient data), so nothing is audit-logged.
#include "Workflow.h"

#include <Poco/JSON/Array.h>

namespace klinikbox::referral {

Poco::JSON::Object::Ptr Workflow::figures(Request&) {
    long long incoming = 0;
    ctx_.store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT COUNT(*) FROM referral_referrals WHERE direction = 'in' AND state = 'sent'");
        if (st.step()) incoming = st.getInt(0);
    });
    const auto late = static_cast<long long>(overdueCount());
    auto figure = [](const std::string& key, const std::string& label, long long value) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
        o->set("key", key);
        o->set("label", label);
        o->set("value", value);
        o->set("href", "#/page/referral/outgoing");
        if (value > 0) o->set("tone", "warn");
        return o;
    };
    Poco::JSON::Array::Ptr figs = new Poco::JSON::Array;
    figs->add(figure("referrals_incoming", "Inkomna remisser att bekräfta", incoming));
    figs->add(figure("referrals_overdue", "Skickade remisser utan svar", late));
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("figures", figs);
    return o;
}

}  // namespace klinikbox::referral
