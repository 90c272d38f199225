// The journal plugin's Swedish user-facing texts of server-rendered pages and lists (the
// console's own texts are in web/strings.js). One place, so wording is reviewed together.
#pragma once
#include <string_view>

namespace klinikbox::journal {

inline constexpr const char* kSvExtractTitle = "Loggutdrag – vem har läst din journal";
inline constexpr const char* kSvExtractPatient = "Patient:";
inline constexpr const char* kSvExtractPeriod = "Period:";
inline constexpr const char* kSvExtractIntro =
    "Här visas vilka vårdenheter som har tagit del av dina uppgifter från andra vårdgivare (sammanhållen journalföring) och när. "
    "Kontakta vårdgivaren om du inte känner igen en åtkomst.";
inline constexpr const char* kSvNoAccesses = "Inga åtkomster under perioden.";
inline constexpr const char* kSvWhen = "När";
inline constexpr const char* kSvCareUnit = "Vårdenhet";
inline constexpr const char* kSvWhat = "Vad";
inline constexpr const char* kSvBasis = "Grund";

[[nodiscard]] inline std::string_view whatSv(std::string_view what) {
    if (what == "notes") return "Journalanteckningar";
    if (what == "diagnoses") return "Diagnoser";
    if (what == "alerts") return "Uppmärksamhetsinformation";
    if (what == "consent") return "Samtycke registrerat";
    if (what == "emergency") return "Nödåtkomst registrerad";
    return what;
}

[[nodiscard]] inline std::string_view basisSv(std::string_view basis) {
    if (basis == "consent") return "Ditt samtycke";
    if (basis == "emergency") return "Nödåtkomst (du kunde inte tillfrågas)";
    return basis;
}

}  // namespace klinikbox::journal
