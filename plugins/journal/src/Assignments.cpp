#include "Assignments.h"

namespace klinikbox::journal {

std::optional<Assignment> assignmentOf(db::Connection& c, long long userId) {
    auto st = c.prepare("SELECT care_unit, care_unit_name, purpose, chosen_at FROM journal_assignments WHERE user_id = ?");
    st.bind(1, userId);
    if (!st.step()) return std::nullopt;
    return Assignment{st.getText(0), st.getText(1), st.getText(2), st.getInt(3)};
}

void chooseAssignment(db::Connection& c, long long userId, const std::string& username, const CareUnit& unit, long long now) {
    c.prepare("INSERT INTO journal_assignments(user_id, username, care_unit, care_unit_name, purpose, chosen_at) "
              "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET username = excluded.username, "
              "care_unit = excluded.care_unit, care_unit_name = excluded.care_unit_name, purpose = excluded.purpose, "
              "chosen_at = excluded.chosen_at")
        .bind(1, userId).bind(2, username).bind(3, unit.hsaId).bind(4, unit.name).bind(5, kPurpose).bind(6, now).exec();
}

std::optional<CareUnit> findUnit(const std::vector<CareUnit>& units, const std::string& hsaId) {
    for (const auto& u : units)
        if (u.hsaId == hsaId) return u;
    return std::nullopt;
}

}  // namespace klinikbox::journal
