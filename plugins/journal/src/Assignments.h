// The assignment (medarbetaruppdrag) a user reads shared records in: a care unit of the
// clinic and the purpose "Vård och behandling", chosen when opening the journal view and
// recorded on every access.
#pragma once
#include <klinikbox/Db.h>

#include <optional>
#include <string>
#include <vector>

namespace klinikbox::journal {

inline constexpr const char* kPurpose = "Vård och behandling";

struct CareUnit {
    std::string hsaId, name;
};

struct Assignment {
    std::string careUnit, careUnitName, purpose;
    long long chosenAt = 0;
};

[[nodiscard]] std::optional<Assignment> assignmentOf(db::Connection& c, long long userId);
void chooseAssignment(db::Connection& c, long long userId, const std::string& username, const CareUnit& unit, long long now);
// The configured unit with that HSA-id, if any.
[[nodiscard]] std::optional<CareUnit> findUnit(const std::vector<CareUnit>& units, const std::string& hsaId);

}  // namespace klinikbox::journal
