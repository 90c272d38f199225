#include <klinikbox/Personnummer.h>

#include <gtest/gtest.h>

using namespace klinikbox;
using namespace std::chrono;

namespace {

constexpr year_month_day kToday{year{2026}, month{11}, day{22}};

// Appends the Luhn check digit to nine digits YYMMDDNNN (computed independently of the
// code under test, the way the Skatteverket leaflet describes it).
std::string withCheck(const std::string& nine) {
    int sum = 0;
    for (int i = 0; i < 9; ++i) {
        int p = (nine[static_cast<std::size_t>(i)] - '0') * ((i % 2 == 0) ? 2 : 1);
        sum += p > 9 ? p - 9 : p;
    }
    return nine + std::to_string((10 - sum % 10) % 10);
}

std::string wrongCheck(const std::string& nine) {
    std::string ok = withCheck(nine);
    ok.back() = static_cast<char>('0' + (ok.back() - '0' + 1) % 10);
    return ok;
}

PersonnummerError errorOf(std::string_view s, year_month_day today = kToday) {
    auto r = Personnummer::parse(s, today);
    EXPECT_TRUE(std::holds_alternative<PersonnummerError>(r)) << s << " was accepted";
    return std::holds_alternative<PersonnummerError>(r) ? std::get<PersonnummerError>(r) : PersonnummerError::Empty;
}

Personnummer ok(std::string_view s, year_month_day today = kToday) {
    auto r = Personnummer::parse(s, today);
    if (auto* e = std::get_if<PersonnummerError>(&r)) {
        ADD_FAILURE() << s << " refused: " << toString(*e);
        return Personnummer::parseOrThrow("191212121212", kToday);
    }
    return std::get<Personnummer>(r);
}

struct Valid {
    std::string input;
    std::string twelve;
};

}  // namespace

TEST(Personnummer, OfficialTestNumberIsValidInEveryWrittenForm) {
    for (const char* s : {"191212121212", "19121212-1212", "121212+1212", " 121212+1212 "}) {
        EXPECT_EQ(ok(s).twelveDigits(), "191212121212") << s;
    }
    // Without '+', a 10-digit form means someone under 100: the same digits are a 2012 child.
    EXPECT_EQ(ok("121212-1212").twelveDigits(), "201212121212");
    EXPECT_EQ(ok("1212121212").twelveDigits(), "201212121212");
}

TEST(Personnummer, TableOfValidNumbersParsesToTheStoredForm) {
    const std::vector<Valid> table = {
        {withCheck("800101123"), "19" + withCheck("800101123")},
        {withCheck("000229123"), "20" + withCheck("000229123")},      // leap day 2000
        {"20" + withCheck("000229123"), "20" + withCheck("000229123")},
        {withCheck("261122123"), "20" + withCheck("261122123")},      // born today
        {withCheck("261123123"), "19" + withCheck("261123123")},      // tomorrow's date: a century ago
        {withCheck("991231987"), "19" + withCheck("991231987")},
        {"19" + withCheck("991231987"), "19" + withCheck("991231987")},
        {withCheck("050615001"), "20" + withCheck("050615001")},
        {withCheck("121272123"), "20" + withCheck("121272123")},      // samordningsnummer, day 12+60
        {withCheck("010161123"), "20" + withCheck("010161123")},      // samordningsnummer, day 1+60
        {withCheck("450131234").insert(6, "-"), "19" + withCheck("450131234")},
        {withCheck("200229123").insert(6, "+"), "19" + withCheck("200229123")},  // 1920 leap day, 100+
        {"19" + withCheck("200229123"), "19" + withCheck("200229123")},
        {withCheck("250101123").insert(6, "+"), "19" + withCheck("250101123")},  // 101 years old
        {"18" + withCheck("991231123"), "18" + withCheck("991231123")},
    };
    for (const auto& v : table) EXPECT_EQ(ok(v.input).twelveDigits(), v.twelve) << v.input;
}

TEST(Personnummer, TableOfInvalidNumbersGivesThePreciseError) {
    const std::vector<std::pair<std::string, PersonnummerError>> table = {
        {"", PersonnummerError::Empty},
        {"   ", PersonnummerError::Empty},
        {"12121212121", PersonnummerError::WrongLength},
        {"1912121212121", PersonnummerError::WrongLength},
        {"121212-121", PersonnummerError::WrongLength},
        {"12121a-1212", PersonnummerError::InvalidCharacters},
        {"121212--1212", PersonnummerError::InvalidCharacters},
        {"1212-121212", PersonnummerError::InvalidCharacters},
        {"121212 1212", PersonnummerError::InvalidCharacters},
        {"121212_1212", PersonnummerError::InvalidCharacters},
        {wrongCheck("121212121"), PersonnummerError::InvalidChecksum},
        {"19" + wrongCheck("800101123"), PersonnummerError::InvalidChecksum},
        {withCheck("801301123"), PersonnummerError::InvalidDate},  // month 13
        {withCheck("800001123"), PersonnummerError::InvalidDate},  // month 00
        {withCheck("800100123"), PersonnummerError::InvalidDate},  // day 00
        {withCheck("800132123"), PersonnummerError::InvalidDate},  // day 32
        {withCheck("800431123"), PersonnummerError::InvalidDate},  // April 31
        {"19" + withCheck("000229123"), PersonnummerError::InvalidDate},  // 1900 is no leap year
        {withCheck("800192123"), PersonnummerError::InvalidDate},  // samordning day 32
        {"20" + withCheck("301010123"), PersonnummerError::FutureDate},
        {"20" + withCheck("261123123"), PersonnummerError::FutureDate},
        {"19" + withCheck("800101123").insert(6, "+"), PersonnummerError::SeparatorMisuse},
    };
    for (const auto& [input, err] : table) EXPECT_EQ(errorOf(input), err) << input;
}

TEST(Personnummer, PlusSeparatorMeansHundredOrOlder) {
    const auto young = ok(withCheck("200101123").insert(6, "-"));
    const auto old = ok(withCheck("200101123").insert(6, "+"));
    EXPECT_EQ(static_cast<int>(young.birthDate().year()), 2020);
    EXPECT_EQ(static_cast<int>(old.birthDate().year()), 1920);
}

TEST(Personnummer, CenturyIsChosenRelativeToToday) {
    const std::string nine = withCheck("261201123");
    EXPECT_EQ(static_cast<int>(ok(nine, kToday).birthDate().year()), 1926);
    const year_month_day later{year{2026}, month{12}, day{1}};
    EXPECT_EQ(static_cast<int>(ok(nine, later).birthDate().year()), 2026);
}

TEST(Personnummer, CoordinationNumberIsRecognisedWithItsRealBirthDate) {
    const auto p = ok("19" + withCheck("121272123"));
    EXPECT_TRUE(p.isCoordinationNumber());
    EXPECT_EQ(p.birthDate(), (year_month_day{year{1912}, month{12}, day{12}}));
    EXPECT_FALSE(ok("191212121212").isCoordinationNumber());
}

TEST(Personnummer, SecondToLastDigitGivesSex) {
    EXPECT_EQ(ok("191212121212").sex(), Sex::Male);   // 1 is odd
    EXPECT_EQ(ok(withCheck("800101124")).sex(), Sex::Female);
}

TEST(Personnummer, AgeCountsWholeYearsAndLeapDayBirthdaysTurnOnFirstOfMarch) {
    const auto p = ok("20" + withCheck("080229123"));
    EXPECT_EQ(p.ageOn({year{2026}, month{2}, day{28}}), 17);
    EXPECT_EQ(p.ageOn({year{2026}, month{3}, day{1}}), 18);
    EXPECT_EQ(p.ageOn({year{2028}, month{2}, day{29}}), 20);
    EXPECT_EQ(ok("191212121212").ageOn(kToday), 113);
}

TEST(Personnummer, DisplayAndMaskedForms) {
    const auto p = ok("121212+1212");
    EXPECT_EQ(p.formatted(), "19121212-1212");
    EXPECT_EQ(p.masked(), "19121212-****");
}

TEST(Personnummer, ParseOrThrowThrowsOnInvalidInput) {
    EXPECT_THROW((void)Personnummer::parseOrThrow("121212-1213", kToday), std::invalid_argument);
}

TEST(Personnummer, ErrorsHaveStableNamesAndSwedishDescriptions) {
    EXPECT_EQ(toString(PersonnummerError::InvalidChecksum), "invalid-checksum");
    EXPECT_NE(describeSv(PersonnummerError::InvalidChecksum).find("Kontrollsiffran"), std::string_view::npos);
}

TEST(MaskPersonnummer, MasksEveryWrittenFormInFreeText) {
    EXPECT_EQ(maskPersonnummerInText("GET /api/v1/x/191212121212/bookings"), "GET /api/v1/x/19121212****/bookings");
    EXPECT_EQ(maskPersonnummerInText("pnr=19121212-1212&x=1"), "pnr=19121212-****&x=1");
    EXPECT_EQ(maskPersonnummerInText("patient 121212-1212 arrived"), "patient 121212-**** arrived");
    EXPECT_EQ(maskPersonnummerInText("old 121212+1212."), "old 121212+****.");
    EXPECT_EQ(maskPersonnummerInText("1212121212"), "121212****");
}

TEST(MaskPersonnummer, LeavesOtherNumbersAlone) {
    for (const char* s : {"order 12345", "ts 20261122134501", "id 1234567890123", "2026-11-22", "year 2026 x",
                          "a 19121212-12345 b", "8443"}) {
        EXPECT_EQ(maskPersonnummerInText(s), s);
    }
}
