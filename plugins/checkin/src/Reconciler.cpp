// The reconciler: a background thread that asks Swish about every unsettled Swish payment
// until it is final, so that a payment the patient approved is settled (and its fee reported
// to e-frikort, once) even when no callback arrives and no kiosk is polling: after a crash,
// a restart, a lost answer. Each payment is asked about on a backoff schedule
// (checkDelaySeconds: 2, 4, 8, 16, 32, then every 60 s); right after a start every unsettled
// payment is asked about at once.
#include "CheckinPlugin.h"

#include <vector>

namespace checkin::plugin {

int CheckinPlugin::reconcile(bool all) {
    std::vector<Payment> due;
    int unsettled = 0;
    ctx_->store().read([&](db::Connection& c) {
        auto st = c.prepare("SELECT id FROM checkin_payments WHERE status = 'created' AND method = 'swish'"
                            " AND (? OR next_check_at IS NULL OR next_check_at <= ?) ORDER BY next_check_at LIMIT 200");
        st.bind(1, all ? 1LL : 0LL).bind(2, now());
        std::vector<long long> ids;
        while (st.step()) ids.push_back(st.getInt(0));
        for (auto id : ids)
            if (auto p = paymentWhere(c, "id = ?", std::to_string(id))) due.push_back(*p);
    });
    for (const auto& p : due) {
        {
            std::lock_guard lock(reconcileMu_);
            if (stopping_) return unsettled;
        }
        try {
            if (!confirmSwish(p, true)) ++unsettled;
        } catch (const std::exception& e) {
            ++unsettled;
            ctx_->log().warning("checkin: the reconciler could not ask Swish about payment " + std::to_string(p.id) + ": " + e.what());
        }
    }
    return unsettled;
}

void CheckinPlugin::reconcileLoop() {
    bool first = true;
    while (true) {
        try {
            (void)reconcile(first);
            first = false;
        } catch (const std::exception& e) {
            ctx_->log().warning(std::string("checkin: reconciler: ") + e.what());
        }
        std::unique_lock lock(reconcileMu_);
        if (reconcileCv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; })) return;
    }
}

void CheckinPlugin::stop() {
    {
        std::lock_guard lock(reconcileMu_);
        stopping_ = true;
    }
    reconcileCv_.notify_all();
    if (reconciler_.joinable()) reconciler_.join();
}

}  // namespace checkin::plugin
